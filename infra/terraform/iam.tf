# The Dataflow worker's service account (also the Flex Template launcher's), with
# only what the job does: run as a Dataflow worker, pull its image, read the two
# subscriptions, read and write the pipeline bucket, read the pseudonymisation key.
# The catalog is reached over the private network with a PostgreSQL user, which
# needs no Cloud SQL role (no Cloud SQL connector or proxy is used).

resource "google_service_account" "worker" {
  account_id   = "${var.name}-dataflow"
  display_name = "voc Dataflow workers"
}

resource "google_project_iam_member" "worker" {
  for_each = toset([
    "roles/dataflow.worker",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ])
  project = var.project
  role    = each.value
  member  = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_pubsub_subscription_iam_member" "worker_reads" {
  for_each     = var.topics
  subscription = google_pubsub_subscription.pipeline[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.worker.email}"
}

# Dataflow reads the subscription's metadata (its topic) to track the watermark.
resource "google_pubsub_subscription_iam_member" "worker_views" {
  for_each     = var.topics
  subscription = google_pubsub_subscription.pipeline[each.key].id
  role         = "roles/pubsub.viewer"
  member       = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_storage_bucket_iam_member" "worker_data" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_storage_bucket_iam_member" "worker_key" {
  bucket = google_storage_bucket.secrets.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_artifact_registry_repository_iam_member" "worker_pulls" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.worker.email}"
}
