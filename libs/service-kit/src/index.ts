export { runService, main, ServiceSpec, ServiceContext, ServiceHooks, RunningService } from './bootstrap/run-service';
export { loadServiceConfig, ServiceConfig, EmbeddedRuntimeFile, readEmbeddedRuntime, envPrefix } from './config/service-config';
export { SettingsReader, NumberBounds } from './config/settings-reader';
export { ACCESS_TOKENS, AUDIT_TRAIL, DATA_SOURCE, EVENT_RUNTIME, LOGGER, RUNTIME_METRICS, SERVICE_CONFIG } from './http/tokens';
export { RequireScopes, PublicEndpoint } from './http/scopes.decorator';
export { problem, Problem, PROBLEM_CONTENT_TYPE } from './http/problem';
export { ifMatchVersion, ifMatchTag, IfMatchErrors, IF_MATCH_ERRORS } from './http/if-match';
export { HttpErrorFilter, HttpErrorOutline, HttpErrorRequest, HttpErrorResponse, outlineHttpError, operationOutcome, fhirIssueCode } from './http/http-error.filter';
export { LineageContributor, LineageItem, iso as lineageTime } from './lineage/lineage.port';
