export const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');
export const SUBSCRIPTIONS = Symbol('SUBSCRIPTIONS');
export const DELIVERIES = Symbol('DELIVERIES');
export const MANAGE_SUBSCRIPTIONS = Symbol('MANAGE_SUBSCRIPTIONS');
export const PINNED_HTTP = Symbol('PINNED_HTTP');
export const SECRET_BOX = Symbol('SECRET_BOX');
