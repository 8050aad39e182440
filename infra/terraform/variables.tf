variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the Dataflow job, the catalog, the bucket, Cloud Run and Cloud Scheduler."
  type        = string
  default     = "europe-west1"
}

variable "name" {
  description = "Prefix of every resource name (service accounts, buckets, instance)."
  type        = string
  default     = "voc"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.name))
    error_message = "name: 2-15 characters, lowercase letters, digits and dashes, a letter first."
  }
}

# The topic and subscription names are the pipeline's defaults (pipelines/topology.py);
# tests/infra checks that they agree.
variable "topics" {
  description = "Pub/Sub topic per event type, and the subscription the pipeline reads it through."
  type = map(object({
    topic        = string
    subscription = string
    schema_file  = string
  }))
  default = {
    survey     = { topic = "surveys", subscription = "surveys-voc", schema_file = "survey.proto" }
    agent_note = { topic = "agent-notes", subscription = "agent-notes-voc", schema_file = "agent_note.proto" }
  }
}

variable "enforce_topic_schema" {
  description = "Refuse, at publish time, payloads that do not match the topic schema (schemas/*.proto). Off: every payload reaches the pipeline, which dead-letters what it cannot parse."
  type        = bool
  default     = true
}

variable "ack_deadline_seconds" {
  description = "Ack deadline of the pipeline's subscriptions. Dataflow extends leases itself; 60 s is its usual setting (the local emulator uses 10)."
  type        = number
  default     = 60
}

variable "max_delivery_attempts" {
  description = "Deliveries of one message before Pub/Sub moves it to the dead-letter topic (5-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts: Pub/Sub allows 5 to 100."
  }
}

variable "message_retention" {
  description = "How long unacknowledged messages are kept (a stopped job can catch up within this)."
  type        = string
  default     = "604800s"
}

variable "image" {
  description = "Container image with voc installed (the Flex Template image, infra/dataflow/Dockerfile), e.g. REGION-docker.pkg.dev/P/voc/voc-dataflow:TAG. The digest job runs `voc` from it."
  type        = string
}

variable "subnet_cidr" {
  description = "Range of the subnetwork the Dataflow workers and the digest job use (private IPs only)."
  type        = string
  default     = "10.20.0.0/24"
}

variable "db_tier" {
  description = "Cloud SQL machine tier of the DuckLake catalog."
  type        = string
  default     = "db-custom-1-3840"
}

variable "db_disk_gb" {
  description = "Initial disk of the catalog (it grows automatically)."
  type        = number
  default     = 10
}

variable "deletion_protection" {
  description = "Protect the catalog instance from `terraform destroy`."
  type        = bool
  default     = true
}

variable "temp_retention_days" {
  description = "Objects under temp/ and staging/ of the bucket are deleted after this many days."
  type        = number
  default     = 7
}

variable "schedules" {
  description = <<-EOT
    One Cloud Scheduler job per department, from the owners registry
    (schemas/tagging/owners.yaml): cron (5 fields), IANA time zone, and the period
    each run covers (7d for weekly, 1d for daily). `voc schedule show` prints the same.
  EOT
  type = map(object({
    cron     = string
    timezone = optional(string, "UTC")
    period   = optional(string, "7d")
  }))
  default = {
    billing = { cron = "0 7 * * 1", timezone = "Europe/Berlin" }
  }

  validation {
    condition     = alltrue([for name in keys(var.schedules) : can(regex("^[a-z][a-z0-9_]*$", name))])
    error_message = "Department names are lowercase schema names ([a-z][a-z0-9_]*)."
  }
}

variable "smtp" {
  description = "SMTP relay for email delivery; the password comes from Secret Manager."
  type = object({
    host               = string
    port               = optional(number, 587)
    from               = string
    user               = optional(string, "")
    starttls           = optional(bool, true)
    password_secret_id = optional(string, "")
  })
  default = null
}
