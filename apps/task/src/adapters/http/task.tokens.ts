export const TASK_CONFIG = Symbol('TASK_CONFIG');
export const TASK_METRICS = Symbol('TASK_METRICS');
export const TASK_READER = Symbol('TASK_READER');
export const TASK_LIFECYCLE = Symbol('TASK_LIFECYCLE');
export const TRANSITION_TASK = Symbol('TRANSITION_TASK');
export const ACKNOWLEDGE_TASK = Symbol('ACKNOWLEDGE_TASK');
export const RECORD_FEEDBACK = Symbol('RECORD_FEEDBACK');
export const FIRE_DUE_TIMERS = Symbol('FIRE_DUE_TIMERS');
