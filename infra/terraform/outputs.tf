output "bucket" {
  description = "The pipeline bucket: lake/ (Parquet), temp/, staging/, templates/."
  value       = google_storage_bucket.data.name
}

output "key_bucket" {
  description = "Holds pseudonym.key; pass --pseudonym_key_file=gs://<key_bucket>/pseudonym.key."
  value       = google_storage_bucket.secrets.name
}

output "digests_bucket" {
  description = "Where the digests and their delivery ledgers are written."
  value       = google_storage_bucket.digests.name
}

output "worker_service_account" {
  description = "Run the Flex Template as this account (make dataflow-run SERVICE_ACCOUNT=...)."
  value       = google_service_account.worker.email
}

output "subnetwork" {
  description = "Run the workers in this subnetwork, without public IPs (make dataflow-run SUBNETWORK=...)."
  value       = google_compute_subnetwork.workers.self_link
}

output "subscriptions" {
  description = "Subscription per event type (the pipeline's --surveys-subscription, --notes-subscription)."
  value       = { for kind, sub in google_pubsub_subscription.pipeline : kind => sub.id }
}

output "dead_letter_subscription" {
  description = "Messages Pub/Sub gave up delivering wait here."
  value       = google_pubsub_subscription.dead_letter_hold.id
}

output "catalog" {
  description = "The DuckLake catalog setting, without its password (--catalog; the password is in the catalog_password_secret)."
  value       = local.catalog
}

output "catalog_password_secret" {
  description = "Secret Manager secret holding the catalog user's password."
  value       = google_secret_manager_secret.catalog_password.secret_id
}

output "image_repository" {
  description = "Artifact Registry path for the voc image (make dataflow-template IMAGE=<this>/voc-dataflow:TAG)."
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.images.repository_id}"
}

output "digest_job" {
  description = "The Cloud Run job; run it by hand with `gcloud run jobs execute <name> --region <region>`."
  value       = google_cloud_run_v2_job.digest.name
}

output "digest_schedulers" {
  description = "Cloud Scheduler job per department."
  value       = { for name, job in google_cloud_scheduler_job.digest : name => job.name }
}
