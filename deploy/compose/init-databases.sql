-- One database per service: no service reads another's tables.
CREATE DATABASE clinmesh_ingest;
CREATE DATABASE clinmesh_identity_resolution;
CREATE DATABASE clinmesh_normalization;
CREATE DATABASE clinmesh_policy;
CREATE DATABASE clinmesh_task;
CREATE DATABASE clinmesh_notifier;
