# The digest job in production: a Cloud Run job running `voc digest` against the
# lake, started by one Cloud Scheduler job per department schedule (the owners
# registry's cron and time zone). Moved here from infra/digests/ so the digests share
# the project, region, network, catalog and buckets of the rest of the stack.

# The job runs as its own service account: it reads the lake (catalog password,
# Parquet files), writes the digests bucket, reads the SMTP password secret.
resource "google_service_account" "digest" {
  account_id   = "${var.name}-digest"
  display_name = "voc digest job"
}

# Cloud Scheduler calls the Cloud Run Admin API as this account.
resource "google_service_account" "scheduler" {
  account_id   = "${var.name}-digest-scheduler"
  display_name = "voc digest scheduler"
}

resource "google_storage_bucket_iam_member" "digest_reads_lake" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.digest.email}"
}

resource "google_storage_bucket_iam_member" "digest_writes_digests" {
  bucket = google_storage_bucket.digests.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.digest.email}"
}

resource "google_secret_manager_secret_iam_member" "digest_catalog_password" {
  secret_id = google_secret_manager_secret.catalog_password.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.digest.email}"
}

resource "google_secret_manager_secret_iam_member" "smtp_password" {
  count     = var.smtp != null && try(var.smtp.password_secret_id, "") != "" ? 1 : 0
  secret_id = var.smtp.password_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.digest.email}"
}

resource "google_artifact_registry_repository_iam_member" "digest_pulls" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.digest.email}"
}

locals {
  # Owner commands read the store VOC_STORE names (pipelines/ops/owner_connection.py).
  digest_env = merge(
    { VOC_STORE = "ducklake:${local.catalog}" },
    var.smtp == null ? {} : {
      VOC_SMTP_HOST     = var.smtp.host
      VOC_SMTP_PORT     = tostring(var.smtp.port)
      VOC_SMTP_FROM     = var.smtp.from
      VOC_SMTP_USER     = var.smtp.user
      VOC_SMTP_STARTTLS = var.smtp.starttls ? "1" : "0"
    },
  )
}

# One job; its default arguments write every department's digest plus the index
# (a manual `gcloud run jobs execute voc-digest`). Each scheduled run overrides the
# arguments with one department, whose output folder (and so its delivery ledger)
# is its own: no two executions ever append to the same ledger object.
resource "google_cloud_run_v2_job" "digest" {
  name                = "${var.name}-digest"
  location            = var.region
  deletion_protection = false

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.digest.email
      timeout         = "900s"
      max_retries     = 0 # retries are the ledger's job: the next run retries a failed send

      # Direct VPC egress: the catalog has a private IP only.
      vpc_access {
        egress = "PRIVATE_RANGES_ONLY"
        network_interfaces {
          network    = google_compute_network.voc.id
          subnetwork = google_compute_subnetwork.workers.id
        }
      }

      containers {
        image = var.image
        args  = ["digest", "--all", "--period", "7d", "--out", "/digests/all", "--deliver"]

        resources {
          limits = { cpu = "1", memory = "2Gi" }
        }

        dynamic "env" {
          for_each = local.digest_env
          content {
            name  = env.key
            value = env.value
          }
        }

        # libpq reads the catalog password from PGPASSWORD.
        env {
          name = "PGPASSWORD"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.catalog_password.secret_id
              version = "latest"
            }
          }
        }

        dynamic "env" {
          for_each = var.smtp != null && try(var.smtp.password_secret_id, "") != "" ? [1] : []
          content {
            name = "VOC_SMTP_PASSWORD"
            value_source {
              secret_key_ref {
                secret  = var.smtp.password_secret_id
                version = "latest"
              }
            }
          }
        }

        volume_mounts {
          name       = "digests"
          mount_path = "/digests"
        }
      }

      volumes {
        name = "digests"
        gcs {
          bucket    = google_storage_bucket.digests.name
          read_only = false
        }
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.digest_catalog_password,
    google_secret_manager_secret_version.catalog_password,
  ]
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_job" {
  name     = google_cloud_run_v2_job.digest.name
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

# One Cloud Scheduler job per department schedule: POST the Cloud Run Admin API's
# jobs.run with the department's arguments.
resource "google_cloud_scheduler_job" "digest" {
  for_each = var.schedules

  name             = "${var.name}-digest-${replace(each.key, "_", "-")}"
  description      = "voc digest for ${each.key}"
  region           = var.region
  schedule         = each.value.cron
  time_zone        = each.value.timezone
  attempt_deadline = "320s"

  retry_config {
    retry_count = 0 # a second execution of the same run would only find the ledger's "sent"
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project}/locations/${var.region}/jobs/${google_cloud_run_v2_job.digest.name}:run"
    headers     = { "Content-Type" = "application/json" }
    body = base64encode(jsonencode({
      overrides = {
        containerOverrides = [{
          args = ["digest", "--department", each.key, "--period", each.value.period,
          "--out", "/digests/${each.key}", "--deliver"]
        }]
      }
    }))

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_runs_job]
}
