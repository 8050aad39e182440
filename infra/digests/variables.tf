variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run job and the Cloud Scheduler jobs."
  type        = string
  default     = "europe-west1"
}

variable "image" {
  description = "Container image with voc installed (`voc` on PATH), e.g. REGION-docker.pkg.dev/P/voc/voc:TAG."
  type        = string
}

variable "data_bucket" {
  description = "Bucket holding the DuckDB file the digests read (mounted read-only at /data)."
  type        = string
}

variable "duckdb_object" {
  description = "Path of the DuckDB file inside data_bucket."
  type        = string
  default     = "voc.duckdb"
}

variable "digests_bucket" {
  description = "Bucket the digests and their delivery ledgers are written to (mounted at /digests)."
  type        = string
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
