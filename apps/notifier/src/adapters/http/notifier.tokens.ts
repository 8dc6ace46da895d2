export const SUBSCRIPTIONS = Symbol('SUBSCRIPTIONS');
