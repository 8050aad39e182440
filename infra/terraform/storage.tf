# One bucket for the pipeline: lake/ (DuckLake's Parquet files), temp/ and staging/
# (Dataflow), templates/ (the Flex Template spec). A second, smaller one holds the
# pseudonymisation key, readable by the worker only; the digests have their own.

resource "google_storage_bucket" "data" {
  name                        = "${var.project}-${var.name}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age            = var.temp_retention_days
      matches_prefix = ["temp/", "staging/"]
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

# The key is not created by Terraform (it would sit in the state): upload it once,
# `openssl rand -hex 32 | gcloud storage cp - gs://BUCKET/pseudonym.key` (docs/deploy.md).
resource "google_storage_bucket" "secrets" {
  name                        = "${var.project}-${var.name}-secrets"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true # a key overwritten by mistake can be restored: pseudonyms depend on it
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "digests" {
  name                        = "${var.project}-${var.name}-digests"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  depends_on                  = [google_project_service.apis]
}

resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.name
  format        = "DOCKER"
  description   = "voc images: the Flex Template launcher, which is also the workers' SDK image"
  depends_on    = [google_project_service.apis]
}
