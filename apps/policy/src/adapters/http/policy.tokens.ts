/** Injection tokens of policy's application services. */
export const POLICY_CONFIG = Symbol('POLICY_CONFIG');
export const POLICY_STORE = Symbol('POLICY_STORE');
export const POLICY_STORES = Symbol('POLICY_STORES');
export const CONSENTS = Symbol('CONSENTS');
export const BREAK_GLASS = Symbol('BREAK_GLASS');
export const POLICY_ADMIN = Symbol('POLICY_ADMIN');
export const ROUTE_EVENTS = Symbol('ROUTE_EVENTS');
export const IDENTITY_EVENTS = Symbol('IDENTITY_EVENTS');
export const DELIVERY_EVENTS = Symbol('DELIVERY_EVENTS');
export const POLICY_METRICS = Symbol('POLICY_METRICS');
export const REJECTIONS = Symbol('REJECTIONS');
