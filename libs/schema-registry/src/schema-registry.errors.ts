import { ClinmeshError } from '@clinmesh/errors';

/**
 * An error answered over the Confluent REST API. `errorCode` is Confluent's
 * numeric `error_code` (e.g. 40401) and `status` the HTTP status Confluent
 * uses with it: clients such as @kafkajs/confluent-schema-registry and the
 * Java/Go/Python serializers branch on these numbers, so they must match.
 */
export class SchemaRegistryError extends ClinmeshError {
  constructor(
    readonly errorCode: number,
    status: number,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(`SCHEMA_REGISTRY.${errorCode}`, message, { status, retriable: options.retriable, cause: options.cause, details: { errorCode } });
  }
}

/** Factories for every error the registry answers, named after Confluent's `Errors` class. */
export const RegistryErrors = {
  unauthorized: () => new SchemaRegistryError(40101, 401, 'Unauthorized: valid HTTP Basic credentials are required'),
  subjectNotFound: (subject: string) => new SchemaRegistryError(40401, 404, `Subject '${subject}' not found.`),
  versionNotFound: (version: number | string) => new SchemaRegistryError(40402, 404, `Version ${version} not found.`),
  schemaNotFound: (id?: number | string) =>
    new SchemaRegistryError(40403, 404, id === undefined ? 'Schema not found' : `Schema ${id} not found`),
  subjectSoftDeleted: (subject: string) =>
    new SchemaRegistryError(40404, 404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`),
  subjectNotSoftDeleted: (subject: string) =>
    new SchemaRegistryError(40405, 404, `Subject '${subject}' was not deleted first before being permanently deleted`),
  versionSoftDeleted: (subject: string, version: number) =>
    new SchemaRegistryError(40406, 404, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`),
  versionNotSoftDeleted: (subject: string, version: number) =>
    new SchemaRegistryError(40407, 404, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`),
  subjectConfigNotFound: (subject: string) =>
    new SchemaRegistryError(40408, 404, `Subject '${subject}' does not have subject-level compatibility configured`),
  subjectModeNotFound: (subject: string) =>
    new SchemaRegistryError(40409, 404, `Subject '${subject}' does not have subject-level mode configured`),
  routeNotFound: () => new SchemaRegistryError(404, 404, 'HTTP 404 Not Found'),
  methodNotAllowed: () => new SchemaRegistryError(405, 405, 'HTTP 405 Method Not Allowed'),
  incompatible: (subject: string, messages: string[]) =>
    new SchemaRegistryError(
      409,
      409,
      `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`,
    ),
  unsupportedMediaType: (type: string) => new SchemaRegistryError(415, 415, `HTTP 415 Unsupported Media Type: ${type}`),
  payloadTooLarge: () => new SchemaRegistryError(42209, 422, 'Request body is too large'),
  unprocessable: (message: string) => new SchemaRegistryError(422, 422, message),
  invalidSchema: (detail: string) => new SchemaRegistryError(42201, 422, `Invalid schema: ${detail}`),
  invalidVersion: (version: string) =>
    new SchemaRegistryError(
      42202,
      422,
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    ),
  invalidCompatibility: () =>
    new SchemaRegistryError(
      42203,
      422,
      'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    ),
  invalidMode: (mode: unknown) =>
    new SchemaRegistryError(42204, 422, `Invalid mode ${String(mode)}. Valid values are READWRITE, READONLY and IMPORT`),
  operationNotPermitted: (message: string) => new SchemaRegistryError(42205, 422, message),
  referenceExists: (subject: string, version: number) =>
    new SchemaRegistryError(42206, 422, `One or more references exist to the schema {subject=${subject},version=${version}}.`),
  invalidSubject: (subject: string) => new SchemaRegistryError(42208, 422, `Invalid subject ${JSON.stringify(subject)}`),
  store: (cause: unknown) =>
    new SchemaRegistryError(50001, 500, 'Error in the backend data store', { retriable: true, cause }),
} as const;
