# The digest job in production: a Cloud Run job running `voc digest`, started by one
# Cloud Scheduler job per department schedule (the owners registry's cron and time zone).
terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}
