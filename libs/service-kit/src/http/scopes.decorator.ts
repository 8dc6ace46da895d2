import { SetMetadata } from '@nestjs/common';

export const SCOPES_KEY = 'clinmesh:scopes';
export const PUBLIC_KEY = 'clinmesh:public';

/** The caller's token must carry every one of these scopes. */
export const RequireScopes = (...scopes: string[]) => SetMetadata(SCOPES_KEY, scopes);
/** Only health probes are public. */
export const PublicEndpoint = () => SetMetadata(PUBLIC_KEY, true);
