/** The master patient index as the use case needs it (implemented over PostgreSQL). */
export interface PersonIndexPort {
  /**
   * Links a source record to a person, creating the person when the record is
   * new. Race-safe: concurrent calls for one record agree on one EPID.
   */
  linkBySourceKey(sourcePatientKey: string, proposedEpid: string): Promise<{ epid: string; created: boolean }>;
}
