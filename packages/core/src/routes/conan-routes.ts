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
  | 'uploadPackageFile';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'DELETE';

export interface RouteDefinition {
  path: string;
  methods: Partial<Record<Method, Operation>>;
}

const RECIPE = '/v2/conans/:name/:version/:user/:channel';
const RREV = `${RECIPE}/revisions/:revision`;
const PKG = `${RREV}/packages/:packageId`;
const PREV = `${PKG}/revisions/:packageRevision`;

export const ROUTES: RouteDefinition[] = [
  { path: '/v1/ping', methods: { GET: 'ping' } },
  { path: '/v2/ping', methods: { GET: 'ping' } },
  { path: '/v2/users/authenticate', methods: { GET: 'authenticate' } },
  { path: '/v2/users/check_credentials', methods: { GET: 'checkCredentials' } },
  { path: '/v2/conans/search', methods: { GET: 'search' } },
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
