import type { DeliveryWorker } from './delivery.worker';

/** The app's delivery worker, once started (a Nest provider per app instance, so consumers can wake it; no module-level state). */
export class WorkerHolder {
  worker: DeliveryWorker | null = null;
}
