import criticalResultReview from '../../workflows/critical-result-review.workflow.json';
import resultReview from '../../workflows/result-review.workflow.json';
import admissionNotice from '../../workflows/admission-notice.workflow.json';
import dischargeFollowUp from '../../workflows/discharge-follow-up.workflow.json';
import referralIntake from '../../workflows/referral-intake.workflow.json';
import identityReview from '../../workflows/identity-review.workflow.json';
import breakGlassReview from '../../workflows/break-glass-review.workflow.json';
import deadLetterException from '../../workflows/dead-letter-exception.workflow.json';
import clinicalReview from '../../workflows/clinical-review.workflow.json';
import facilityCalendar from '../../workflows/facility.calendar.json';

/** The shipped workflows (apps/task/workflows/*.workflow.json), compiled in so the service needs no file path at run time. */
export const BUILT_IN_WORKFLOWS: Array<{ source: string; raw: unknown }> = [
  { source: 'critical-result-review.workflow.json', raw: criticalResultReview },
  { source: 'result-review.workflow.json', raw: resultReview },
  { source: 'admission-notice.workflow.json', raw: admissionNotice },
  { source: 'discharge-follow-up.workflow.json', raw: dischargeFollowUp },
  { source: 'referral-intake.workflow.json', raw: referralIntake },
  { source: 'identity-review.workflow.json', raw: identityReview },
  { source: 'break-glass-review.workflow.json', raw: breakGlassReview },
  { source: 'dead-letter-exception.workflow.json', raw: deadLetterException },
  { source: 'clinical-review.workflow.json', raw: clinicalReview },
];

export const BUILT_IN_CALENDAR: { source: string; raw: unknown } = { source: 'facility.calendar.json', raw: facilityCalendar };
