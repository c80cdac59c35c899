import { DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH } from './recipes.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullableString = { type: ['string', 'null'] };
const ok = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '400': { $ref: '#/components/responses/Error' },
  '401': { $ref: '#/components/responses/Error' },
  '403': { $ref: '#/components/responses/Error' },
  '404': { $ref: '#/components/responses/Error' },
};
const segment = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const recipePath = [
  segment('name', 'Recipe name'),
  segment('version', 'Version'),
  segment('user', "User, or '_' for none"),
  segment('channel', "Channel, or '_' for none"),
];
const revision = { type: 'object', required: ['revision', 'time'], properties: { revision: { type: 'string' }, time: { type: 'string', format: 'date-time' } } };
const file = { type: 'object', required: ['path', 'size'], properties: { path: { type: 'string' }, size: { type: 'integer' } } };

let document: object | undefined;

/** The OpenAPI 3.1 description of the web API, served at `/api/v1/openapi.json`. */
export function openApiDocument(): object {
  document ??= {
    openapi: '3.1.0',
    info: {
      title: 'Cimmeria web API',
      version: '1',
      description:
        'JSON API to find and understand packages. Read permissions are exactly the Conan API\'s. Authenticate with HTTP Basic, a Bearer token (session or API token), or the session cookie of POST /session; a state-changing request authenticated by the cookie must send `X-Cimmeria-Request: 1` and, if it sends `Origin`, the server\'s own.',
    },
    servers: [{ url: '.' }],
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'cimmeria_session' },
      },
      responses: {
        Error: { description: 'An error', content: { 'application/json': { schema: ref('Error') } } },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
        },
        Revision: revision,
        File: file,
        Token: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            user: { type: 'string' },
            name: { type: 'string' },
            scope: { enum: ['read', 'write', 'delete'] },
            pattern: nullableString,
            created: { type: 'string', format: 'date-time' },
            expires: nullableString,
            last_used: nullableString,
          },
        },
      },
    },
    security: [{}, { basic: [] }, { bearer: [] }, { cookie: [] }],
    paths: {
      '/session': {
        post: {
          summary: 'Log in: sets the HttpOnly session cookie',
          requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } } } } },
          responses: { '200': ok({ type: 'object', properties: { user: { type: 'string' } } }), '401': errors['401'], '429': { $ref: '#/components/responses/Error' } },
        },
        delete: { summary: 'Log out: clears the cookie', responses: { '204': { description: 'Logged out' } } },
      },
      '/me': {
        get: {
          summary: 'Who is calling',
          responses: { '200': ok({ type: 'object', properties: { user: nullableString, authenticated: { type: 'boolean' } } }) },
        },
      },
      '/tokens': {
        get: { summary: "The caller's API tokens", responses: { '200': ok({ type: 'object', properties: { tokens: { type: 'array', items: ref('Token') } } }), '401': errors['401'] } },
        post: {
          summary: 'Create an API token (its secret is in this answer only)',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { name: { type: 'string' }, scope: { enum: ['read', 'write', 'delete'] }, pattern: { type: 'string' }, expires: { type: 'string', examples: ['90d', '12h', 'never'] } },
                },
              },
            },
          },
          responses: { '201': ok({ allOf: [ref('Token'), { type: 'object', properties: { token: { type: 'string' } } }] }, 'Created'), ...errors },
        },
      },
      '/tokens/{id}': {
        delete: { summary: 'Revoke an API token', parameters: [segment('id', 'Token id')], responses: { '204': { description: 'Revoked' }, ...errors } },
      },
      '/recipes': {
        get: {
          summary: 'Search recipes by name: one item per name, sorted by name',
          parameters: [
            { name: 'q', in: 'query', description: 'A name prefix, or an fnmatch pattern over the name (case-insensitive)', schema: { type: 'string', maxLength: MAX_QUERY_LENGTH } },
            { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 } },
            { name: 'perPage', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE } },
          ],
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      name: { type: 'string' },
                      latest: {
                        type: 'object',
                        properties: { reference: { type: 'string' }, version: { type: 'string' }, user: nullableString, channel: nullableString, revision: { type: 'string' }, time: { type: 'string' } },
                      },
                      versions: { type: 'integer', description: 'Readable references of this name' },
                    },
                  },
                },
                page: { type: 'integer' },
                perPage: { type: 'integer' },
                total: { type: 'integer' },
              },
            }),
            '400': errors['400'],
          },
        },
      },
      '/recipes/{name}': {
        get: {
          summary: 'Versions and user/channel variants of a recipe, newest version first',
          parameters: [segment('name', 'Recipe name')],
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                name: { type: 'string' },
                versions: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { version: { type: 'string' }, user: nullableString, channel: nullableString, reference: { type: 'string' }, latestRevision: ref('Revision'), revisions: { type: 'integer' } },
                  },
                },
              },
            }),
            ...errors,
          },
        },
      },
      '/recipes/{name}/dependents': {
        get: {
          summary: "Binaries whose conaninfo.txt [requires] names the recipe",
          parameters: [segment('name', 'Recipe name'), { name: 'version', in: 'query', description: "Only requires of this version ('1.3' covers 1.3.1 and 1.3.Z)", schema: { type: 'string' } }],
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                items: { type: 'array', items: { type: 'object', properties: { reference: { type: 'string' }, revision: { type: 'string' }, packageId: { type: 'string' }, requires: { type: 'string' } } } },
                truncated: { type: 'boolean' },
              },
            }),
            ...errors,
          },
        },
      },
      '/recipes/{name}/{version}/{user}/{channel}/revisions': {
        get: {
          summary: 'Revisions of a recipe, newest first',
          parameters: recipePath,
          responses: { '200': ok({ type: 'object', properties: { reference: { type: 'string' }, revisions: { type: 'array', items: ref('Revision') } } }), ...errors },
        },
      },
      '/recipes/{name}/{version}/{user}/{channel}/revisions/{revision}': {
        get: {
          summary: 'A recipe revision: files, conanfile.py text (at most 512 KiB), metadata files',
          parameters: [...recipePath, segment('revision', 'Recipe revision')],
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                reference: { type: 'string' },
                revision: { type: 'string' },
                time: { type: 'string' },
                files: { type: 'array', items: ref('File') },
                conanfile: nullableString,
                conanfileTruncated: { type: 'boolean' },
                metadataFiles: { type: 'array', items: ref('File') },
              },
            }),
            ...errors,
          },
        },
      },
      '/recipes/{name}/{version}/{user}/{channel}/revisions/{revision}/packages': {
        get: {
          summary: 'Binaries of a recipe revision, with settings, options and requires from conaninfo.txt',
          parameters: [...recipePath, segment('revision', 'Recipe revision')],
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                packages: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      packageId: { type: 'string' },
                      settings: { type: 'object', additionalProperties: { type: 'string' } },
                      options: { type: 'object', additionalProperties: { type: 'string' } },
                      requires: { type: 'array', items: { type: 'string' } },
                      revisions: {
                        type: 'array',
                        items: { allOf: [ref('Revision'), { type: 'object', properties: { files: { type: 'array', items: ref('File') } } }] },
                      },
                    },
                  },
                },
              },
            }),
            ...errors,
          },
        },
      },
      '/stats': {
        get: {
          summary: 'Totals and recent publications',
          description: 'Totals are null for callers who may not read every recipe; recent lists the readable publications (at most 20).',
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                recipes: { type: ['integer', 'null'] },
                revisions: { type: ['integer', 'null'] },
                binaries: { type: ['integer', 'null'] },
                bytes: { type: ['integer', 'null'] },
                recent: { type: 'array', items: { type: 'object', properties: { reference: { type: 'string' }, revision: { type: 'string' }, time: { type: 'string' } } } },
              },
            }),
          },
        },
      },
      '/openapi.json': { get: { summary: 'This description', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
  return document;
}
