"""The local stack: the whole system on one machine, no Docker (SPEC section 8).

- stack     `python -m local.stack` (`make run`): starts everything, seeds the demo tenants
- aws       moto's server on loopback, mail capture, presigned-URL checks, SES identity, bucket CORS
- template  template.yaml read and its resources created (shared with the tests)
- functions the template's functions: code, layers, handler, timeout, resolved environment
- worker    Lambda execution environments: a zygote that forks one process per environment
- runtime   invokes functions in those environments (pools, timeouts, code reload)
- gateway   the HTTP API: routes, payload format 2.0, CORS; authorizer: its JWT authorizer
- sources   the event sources (SQS, DynamoDB stream, S3) and their failure handling; filters
- events    EventBridge: PutEvents recorded (GET /_local/events) and delivered to the template's
            rules; asynchronous invocation (retries, destinations); patterns: event patterns
- lambda_api  Lambda's Invoke API for the template's functions (one function calling another)
- schedules the template's schedules, run every LOCAL_SCHEDULE_SECONDS
- keys, token  the local identity provider's key set; `python -m local.token` mints tokens
- invoke    `python -m local.invoke <Function> -e <event.json>`: a docker-free `sam local invoke`
"""
