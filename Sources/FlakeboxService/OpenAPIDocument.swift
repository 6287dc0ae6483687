/// The service's OpenAPI 3.1 document, served at `GET /openapi.json` (no key needed): every route of
/// RunPod's endpoint API under `/v2/{endpoint_id}/`, flakebox's own (`jobs`, `report`) and the
/// service routes, with every status code a route can answer. Outside clients check the service
/// against it (`scripts/service-check.sh` runs schemathesis with it).
///
/// Kept as text, not built from the types, so that it says what the wire carries: a change to a
/// reply that this document does not follow shows up as a schemathesis failure, not as a document
/// that silently followed the code.
public enum OpenAPIDocument {
    /// The document, as JSON text.
    public static let json: String = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "flakebox serve",
            "version": "2",
            "description": "RunPod's endpoint API (so `runpod.Endpoint` works unchanged) over flakebox's job service."
          },
          "security": [{"bearerAuth": []}, {"rawKey": []}],
          "paths": {
            "/v2/{endpoint_id}/run": {
              "post": {
                "operationId": "run",
                "summary": "Queue a job",
                "tags": ["jobs"],
                "parameters": [{"$ref": "#/components/parameters/EndpointId"}],
                "requestBody": {
                  "required": true,
                  "description": "A flakebox job (at most 10 MB).",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}}}
                },
                "responses": {
                  "200": {
                    "description": "Queued.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobReference"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {
                    "description": "A job with this id exists already.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/runsync": {
              "post": {
                "operationId": "runSync",
                "summary": "Run a job and wait for it",
                "tags": ["jobs"],
                "parameters": [{"$ref": "#/components/parameters/EndpointId"}, {"$ref": "#/components/parameters/Wait"}],
                "requestBody": {
                  "required": true,
                  "description": "A flakebox job (at most 20 MB).",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}}}
                },
                "responses": {
                  "200": {
                    "description": "The final status, or `{id, status}` when the job was not final in time.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobStatus"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {
                    "description": "A job with this id exists already.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "413": {"$ref": "#/components/responses/PayloadTooLarge"},
                  "422": {"$ref": "#/components/responses/Unprocessable"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/status/{id}": {
              "get": {
                "operationId": "getStatus",
                "summary": "A job's status",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"},
                  {"$ref": "#/components/parameters/TTL"}
                ],
                "responses": {
                  "200": {
                    "description": "The job's status.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobStatus"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              },
              "post": {
                "operationId": "postStatus",
                "summary": "A job's status",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"},
                  {"$ref": "#/components/parameters/TTL"}
                ],
                "responses": {
                  "200": {
                    "description": "The job's status.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobStatus"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/stream/{id}": {
              "get": {
                "operationId": "getStream",
                "summary": "A job's unread stream chunks",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"}
                ],
                "responses": {
                  "200": {
                    "description": "New chunks (consumed).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StreamReply"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              },
              "post": {
                "operationId": "postStream",
                "summary": "A job's unread stream chunks",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"}
                ],
                "responses": {
                  "200": {
                    "description": "New chunks (consumed).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StreamReply"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/cancel/{id}": {
              "post": {
                "operationId": "cancel",
                "summary": "Cancel a job",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"}
                ],
                "responses": {
                  "200": {
                    "description": "Cancelled, or the final job's current status.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobReference"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/retry/{id}": {
              "post": {
                "operationId": "retry",
                "summary": "Queue a failed or timed-out job again",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"}
                ],
                "responses": {
                  "200": {
                    "description": "Queued again.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobReference"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {
                    "description": "The job is not FAILED or TIMED_OUT.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/purge-queue": {
              "post": {
                "operationId": "purgeQueue",
                "summary": "Remove the key's queued jobs",
                "tags": ["jobs"],
                "parameters": [{"$ref": "#/components/parameters/EndpointId"}],
                "responses": {
                  "200": {
                    "description": "How many were removed.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PurgeReply"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/health": {
              "get": {
                "operationId": "health",
                "summary": "Job and worker counts",
                "tags": ["service"],
                "parameters": [{"$ref": "#/components/parameters/EndpointId"}],
                "responses": {
                  "200": {
                    "description": "Counts.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/jobs": {
              "get": {
                "operationId": "listJobs",
                "summary": "The key's jobs, newest first",
                "tags": ["jobs"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
                  },
                  {
                    "name": "before",
                    "in": "query",
                    "required": false,
                    "description": "The `next` of the previous page.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobsPage"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/v2/{endpoint_id}/report/{id}": {
              "get": {
                "operationId": "report",
                "summary": "A job's HTML report page",
                "tags": ["reports"],
                "parameters": [
                  {"$ref": "#/components/parameters/EndpointId"},
                  {"$ref": "#/components/parameters/JobId"},
                  {
                    "name": "expires",
                    "in": "query",
                    "required": false,
                    "description": "A signed link's expiry (unix seconds), from `report_url`.",
                    "schema": {"type": "integer"}
                  },
                  {
                    "name": "signature",
                    "in": "query",
                    "required": false,
                    "description": "A signed link's signature, from `report_url`.",
                    "schema": {"type": "string"}
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The report (served with a strict Content-Security-Policy).",
                    "headers": {
                      "Content-Security-Policy": {"schema": {"type": "string"}},
                      "X-Content-Type-Options": {"schema": {"type": "string", "const": "nosniff"}}
                    },
                    "content": {"text/html": {"schema": {"type": "string"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {
                    "description": "The job has no summary yet.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                },
                "security": [{"bearerAuth": []}, {"rawKey": []}, {}]
              }
            },
            "/livez": {
              "get": {
                "operationId": "livez",
                "summary": "The process answers",
                "tags": ["service"],
                "security": [],
                "responses": {
                  "200": {
                    "description": "Alive.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceStatus"}}}
                  }
                }
              }
            },
            "/readyz": {
              "get": {
                "operationId": "readyz",
                "summary": "Ready to take jobs",
                "tags": ["service"],
                "security": [],
                "responses": {
                  "200": {
                    "description": "Ready.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceStatus"}}}
                  },
                  "503": {
                    "description": "The database fails or the service is draining.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (admin key)",
                "tags": ["service"],
                "responses": {
                  "200": {
                    "description": "Prometheus text exposition.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Forbidden"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "openAPI",
                "summary": "This document",
                "tags": ["service"],
                "security": [],
                "responses": {
                  "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}}
                  }
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearerAuth": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer fbk_…`."},
              "rawKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "The raw key, as RunPod's curl examples send it."
              }
            },
            "parameters": {
              "EndpointId": {
                "name": "endpoint_id",
                "in": "path",
                "required": true,
                "description": "The service's `--endpoint-id` (default `flakebox`); another id is 404.",
                "schema": {"type": "string"},
                "example": "flakebox"
              },
              "JobId": {
                "name": "id",
                "in": "path",
                "required": true,
                "description": "A job id.",
                "schema": {"type": "string"}
              },
              "TTL": {
                "name": "ttl",
                "in": "query",
                "required": false,
                "description": "A final job is kept this long from now, in ms.",
                "schema": {"type": "integer", "minimum": 10000, "maximum": 604800000}
              },
              "Wait": {
                "name": "wait",
                "in": "query",
                "required": false,
                "description": "How long to wait, in ms.",
                "schema": {"type": "integer", "minimum": 1000, "maximum": 300000, "default": 90000}
              }
            },
            "responses": {
              "BadRequest": {
                "description": "A malformed request, or an API key in the query string (never accepted).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Unauthorized": {
                "description": "No key, an unknown or a revoked one: `{\"error\": \"401 Unauthorized\"}`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Forbidden": {
                "description": "The key lacks the scope this route needs.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "NotFound": {
                "description": "Another endpoint id, or a job this key cannot see (unknown and foreign ids alike).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "PayloadTooLarge": {
                "description": "The body is over the route's limit.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Unprocessable": {
                "description": "An invalid job or policy, or a field the service refuses; nothing is queued.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Unavailable": {
                "description": "The service is shutting down, or its database fails.",
                "headers": {
                  "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 0}}
                },
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "TooManyRequests": {
                "description": "Over a quota of the key; the message names it and its limit.",
                "headers": {
                  "Retry-After": {
                    "description": "Seconds to wait.",
                    "required": true,
                    "schema": {"type": "integer", "minimum": 0}
                  }
                },
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              }
            },
            "schemas": {
              "ServiceStatus": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
              "JobListItem": {
                "type": "object",
                "required": ["id", "status", "createdAt"],
                "properties": {
                  "id": {"type": "string"},
                  "status": {"$ref": "#/components/schemas/JobState"},
                  "createdAt": {"type": "string", "format": "date-time"},
                  "delayTime": {"type": "integer", "minimum": 0},
                  "executionTime": {"type": "integer", "minimum": 0},
                  "retries": {"type": "integer", "minimum": 0}
                }
              },
              "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
              "JobState": {
                "type": "string",
                "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]
              },
              "Policy": {
                "type": "object",
                "additionalProperties": false,
                "description": "RunPod's per-request policy; times in milliseconds.",
                "properties": {
                  "executionTimeout": {"type": "integer", "minimum": 5000, "maximum": 86400000},
                  "ttl": {"type": "integer", "minimum": 10000, "maximum": 604800000},
                  "lowPriority": {"type": "boolean"}
                }
              },
              "RunRequest": {
                "type": "object",
                "additionalProperties": false,
                "required": ["input"],
                "description": "RunPod's request; `s3Config` is not supported (422).",
                "properties": {
                  "input": {"$ref": "#/components/schemas/JobInput"},
                  "webhook": {
                    "type": "string",
                    "format": "uri",
                    "description": "HTTPS URL that gets the final status, signed as Standard Webhooks do."
                  },
                  "policy": {"$ref": "#/components/schemas/Policy"}
                }
              },
              "JobInput": {
                "type": "object",
                "additionalProperties": false,
                "required": ["repo", "test_command"],
                "description": "A flakebox job, validated at submit (`JobInput.parse`); a bad one is 422 with the reason.",
                "properties": {
                  "repo": {
                    "type": "string",
                    "description": "https:// or git@ URL (a local path only with --allow-local-repos)."
                  },
                  "test_command": {"type": "string"},
                  "runs": {"type": "integer", "minimum": 1, "maximum": 1000},
                  "parallelism": {"type": "integer", "minimum": 1, "maximum": 50},
                  "ref": {"type": "string"},
                  "setup_command": {"type": "string"},
                  "timeout_s": {"type": "number", "minimum": 0.1, "maximum": 86400},
                  "deadline_s": {"type": "number", "minimum": 1, "maximum": 604800},
                  "env": {"type": "object", "additionalProperties": {"type": "string"}},
                  "seed_start": {"type": "integer", "minimum": 0, "maximum": 9007199254740992},
                  "stop_after_failures": {"type": "integer", "minimum": 1, "maximum": 1000},
                  "policy": {"type": "string", "description": "A sandbox policy name."},
                  "output_limit_bytes": {"type": ["integer", "string"]},
                  "junit_xml": {"type": "string"},
                  "summary_budget_bytes": {"type": ["integer", "string"]},
                  "submodules": {"type": "boolean"},
                  "rerun": {"type": "integer", "minimum": 0, "maximum": 50},
                  "reseed": {"type": "boolean"},
                  "shuffle": {"type": "boolean"},
                  "packages": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
                  "memory": {"type": ["integer", "string"]},
                  "interference": {"type": "boolean"},
                  "stress": {"type": ["boolean", "object"]},
                  "failure_pattern": {"type": "string"},
                  "ignore_pattern": {"type": "string"}
                }
              },
              "JobReference": {
                "type": "object",
                "required": ["id", "status"],
                "properties": {"id": {"type": "string"}, "status": {"$ref": "#/components/schemas/JobState"}}
              },
              "JobStatus": {
                "type": "object",
                "required": ["id", "status"],
                "description": "`output`: the live progress while IN_PROGRESS, the summary when COMPLETED.",
                "properties": {
                  "id": {"type": "string"},
                  "status": {"$ref": "#/components/schemas/JobState"},
                  "delayTime": {"type": "integer", "minimum": 0, "description": "Queued to started, ms."},
                  "executionTime": {"type": "integer", "minimum": 0, "description": "Started to finished, ms."},
                  "output": {
                    "anyOf": [{"$ref": "#/components/schemas/Progress"}, {"$ref": "#/components/schemas/Summary"}]
                  },
                  "error": {"type": "string"},
                  "retries": {"type": "integer", "minimum": 0},
                  "report_url": {"type": "string", "description": "The report page's capability URL (final jobs)."}
                }
              },
              "Progress": {
                "type": "object",
                "required": ["phase", "completed", "failures", "running", "total", "elapsed_s"],
                "properties": {
                  "phase": {"type": "string"},
                  "completed": {"type": "integer"},
                  "failures": {"type": "integer"},
                  "running": {"type": "integer"},
                  "total": {"type": "integer"},
                  "elapsed_s": {"type": "number"},
                  "eta_s": {"type": "number"}
                }
              },
              "Summary": {
                "type": "object",
                "required": ["total_runs", "parallelism", "failures", "repro_rate", "results"],
                "description": "The job summary, as `flakebox run --json` prints it.",
                "properties": {
                  "total_runs": {"type": "integer", "minimum": 0},
                  "parallelism": {"type": "integer", "minimum": 1},
                  "failures": {"type": "integer", "minimum": 0},
                  "repro_rate": {"type": "number", "minimum": 0, "maximum": 1},
                  "results": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}},
                  "runs_requested": {"type": "integer"},
                  "test_outcomes": {"type": "integer"},
                  "complete": {"type": "boolean"},
                  "incomplete_reason": {"type": ["string", "null"]},
                  "status_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                  "sandbox_errors": {"type": "integer"},
                  "failure_rate": {"type": "object"},
                  "verdict": {"type": "string", "enum": ["flaky", "always_fails", "no_failure_seen", "harness_error"]},
                  "advice": {"type": "string"},
                  "durations_s": {"type": ["object", "null"]},
                  "failure_signatures": {"type": "array"},
                  "failure_signatures_total": {"type": "integer"},
                  "tests": {"type": "array"},
                  "tests_total": {"type": "integer"},
                  "tests_failed_total": {"type": "integer"},
                  "failing_seeds": {"type": "array", "items": {"type": "integer"}},
                  "replay": {"type": ["string", "null"]},
                  "isolation": {"type": "object"},
                  "timings": {"type": "object"},
                  "setup": {"type": ["object", "null"]},
                  "commit": {"type": ["string", "null"]},
                  "working_tree": {"type": ["object", "null"]},
                  "flakebox_version": {"type": "string"},
                  "truncation": {"type": "object"},
                  "seed_control": {"type": ["object", "null"]},
                  "shard": {
                    "type": "object",
                    "description": "What `flakebox merge` needs, never cut by the size budget: the job's identity, its seed range, one row per attempt ([attempt, seed, status, exit_code, signature, junit]) and its duration (durations_s), the failure signatures' lines and per-test counts.",
                    "required": ["format", "identity", "seed_start", "runs", "attempts"],
                    "properties": {
                      "format": {"type": "integer"},
                      "identity": {"type": "object", "additionalProperties": {"type": "string"}},
                      "seed_start": {"type": "integer"},
                      "runs": {"type": "integer"},
                      "replay_template": {"type": "string"},
                      "attempts": {"type": "array", "items": {"type": "array"}},
                      "durations_s": {"type": "array", "items": {"type": "number"}},
                      "signature_lines": {"type": "array", "items": {"type": "string"}},
                      "signatures": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                      "tests": {"type": "object"},
                      "reach": {"type": "object"}
                    }
                  }
                }
              },
              "Attempt": {
                "type": "object",
                "required": ["attempt", "seed", "status"],
                "properties": {
                  "attempt": {"type": "integer"},
                  "seed": {"type": "integer"},
                  "status": {"type": "string"},
                  "exit_code": {"type": ["integer", "null"]},
                  "duration_s": {"type": "number"}
                }
              },
              "StreamReply": {
                "type": "object",
                "required": ["id", "status", "stream"],
                "properties": {
                  "id": {"type": "string"},
                  "status": {"$ref": "#/components/schemas/JobState"},
                  "stream": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": ["output"],
                      "properties": {
                        "output": {
                          "anyOf": [{"$ref": "#/components/schemas/Progress"}, {"$ref": "#/components/schemas/Summary"}]
                        }
                      }
                    }
                  },
                  "error": {"type": "string"}
                }
              },
              "PurgeReply": {
                "type": "object",
                "required": ["removed", "status"],
                "properties": {
                  "removed": {"type": "integer", "minimum": 0},
                  "status": {"type": "string", "const": "completed"}
                }
              },
              "Health": {
                "type": "object",
                "required": ["jobs", "workers"],
                "properties": {
                  "jobs": {
                    "type": "object",
                    "required": ["completed", "failed", "inProgress", "inQueue", "retried"],
                    "properties": {
                      "completed": {"type": "integer", "minimum": 0},
                      "failed": {"type": "integer", "minimum": 0},
                      "inProgress": {"type": "integer", "minimum": 0},
                      "inQueue": {"type": "integer", "minimum": 0},
                      "retried": {"type": "integer", "minimum": 0}
                    }
                  },
                  "workers": {
                    "type": "object",
                    "required": ["idle", "running"],
                    "properties": {
                      "idle": {"type": "integer", "minimum": 0},
                      "running": {"type": "integer", "minimum": 0}
                    }
                  }
                }
              },
              "JobsPage": {
                "type": "object",
                "required": ["jobs"],
                "properties": {
                  "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/JobListItem"}},
                  "next": {"type": ["string", "null"], "description": "Pass as `before` for the next page."}
                }
              }
            }
          }
        }
        """#
}
