export { ClinmeshError, isRetriable } from './clinmesh-error';
