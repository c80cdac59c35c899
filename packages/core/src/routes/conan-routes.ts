/**
 * The Conan REST surface as data: method + path pattern -> operation name.
 * Patterns are matched against the path after the base path, segment by
 * segment; `:name` captures one segment, `*path` captures the rest (file
 * paths may contain `/`).
 */
export type Operation =
  | 'ping'
  | 'authenticate'
  | 'checkCredentials'
  | 'search'
  | 'recipeLatest'
  | 'recipeRevisions'
  | 'recipeBinariesLatest'
  | 'deleteRecipe'
  | 'deleteRecipeRevision'
  | 'recipeBinaries'
  | 'recipeFiles'
  | 'recipeFile'
  | 'uploadRecipeFile'
  | 'deletePackages'
  | 'deletePackage'
  | 'packageLatest'
  | 'packageRevisions'
  | 'deletePackageRevision'
  | 'packageFiles'
  | 'packageFile'
  | 'uploadPackageFile'
  // Conan 1 clients in v1 mode (no revisions): see conan1/.
  | 'v1RecipeSnapshot'
  | 'v1DeleteRecipe'
  | 'v1RecipeBinaries'
  | 'v1RecipeDigest'
  | 'v1RecipeDownloadUrls'
  | 'v1RecipeUploadUrls'
  | 'v1RemoveFiles'
  | 'v1DeletePackages'
  | 'v1PackageSnapshot'
  | 'v1PackageDigest'
  | 'v1PackageDownloadUrls'
  | 'v1PackageUploadUrls'
  | 'v1DownloadFile'
  | 'v1UploadFile';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface RouteDefinition {
  path: string;
  methods: Partial<Record<Method, Operation>>;
}

const RECIPE = '/v2/conans/:name/:version/:user/:channel';
const RREV = `${RECIPE}/revisions/:revision`;
const PKG = `${RREV}/packages/:packageId`;
const PREV = `${PKG}/revisions/:packageRevision`;
const V1_RECIPE = '/v1/conans/:name/:version/:user/:channel';
const V1_PKG = `${V1_RECIPE}/packages/:packageId`;

export const ROUTES: RouteDefinition[] = [
  { path: '/v1/ping', methods: { GET: 'ping' } },
  { path: '/v2/ping', methods: { GET: 'ping' } },
  // Conan 1 clients log in under /v1 in both of their modes, and check credentials there in v1 mode.
  { path: '/v1/users/authenticate', methods: { GET: 'authenticate' } },
  { path: '/v1/users/check_credentials', methods: { GET: 'checkCredentials' } },
  { path: '/v2/users/authenticate', methods: { GET: 'authenticate' } },
  { path: '/v2/users/check_credentials', methods: { GET: 'checkCredentials' } },
  { path: '/v2/conans/search', methods: { GET: 'search' } },
  { path: '/v1/conans/search', methods: { GET: 'search' } },
  { path: V1_RECIPE, methods: { GET: 'v1RecipeSnapshot', DELETE: 'v1DeleteRecipe' } },
  { path: `${V1_RECIPE}/search`, methods: { GET: 'v1RecipeBinaries' } },
  { path: `${V1_RECIPE}/digest`, methods: { GET: 'v1RecipeDigest' } },
  { path: `${V1_RECIPE}/download_urls`, methods: { GET: 'v1RecipeDownloadUrls' } },
  { path: `${V1_RECIPE}/upload_urls`, methods: { POST: 'v1RecipeUploadUrls' } },
  { path: `${V1_RECIPE}/remove_files`, methods: { POST: 'v1RemoveFiles' } },
  // Before the package routes: `delete` is no package id.
  { path: `${V1_RECIPE}/packages/delete`, methods: { POST: 'v1DeletePackages' } },
  { path: V1_PKG, methods: { GET: 'v1PackageSnapshot' } },
  { path: `${V1_PKG}/digest`, methods: { GET: 'v1PackageDigest' } },
  { path: `${V1_PKG}/download_urls`, methods: { GET: 'v1PackageDownloadUrls' } },
  { path: `${V1_PKG}/upload_urls`, methods: { POST: 'v1PackageUploadUrls' } },
  { path: '/v1/files/*path', methods: { GET: 'v1DownloadFile', PUT: 'v1UploadFile' } },
  { path: RECIPE, methods: { DELETE: 'deleteRecipe' } },
  { path: `${RECIPE}/latest`, methods: { GET: 'recipeLatest' } },
  { path: `${RECIPE}/revisions`, methods: { GET: 'recipeRevisions' } },
  { path: `${RECIPE}/search`, methods: { GET: 'recipeBinariesLatest' } },
  { path: RREV, methods: { DELETE: 'deleteRecipeRevision' } },
  { path: `${RREV}/search`, methods: { GET: 'recipeBinaries' } },
  { path: `${RREV}/files`, methods: { GET: 'recipeFiles' } },
  { path: `${RREV}/files/*path`, methods: { GET: 'recipeFile', HEAD: 'recipeFile', PUT: 'uploadRecipeFile' } },
  { path: `${RREV}/packages`, methods: { DELETE: 'deletePackages' } },
  { path: PKG, methods: { DELETE: 'deletePackage' } },
  { path: `${PKG}/latest`, methods: { GET: 'packageLatest' } },
  { path: `${PKG}/revisions`, methods: { GET: 'packageRevisions' } },
  { path: PREV, methods: { DELETE: 'deletePackageRevision' } },
  { path: `${PREV}/files`, methods: { GET: 'packageFiles' } },
  { path: `${PREV}/files/*path`, methods: { GET: 'packageFile', HEAD: 'packageFile', PUT: 'uploadPackageFile' } },
];
