output "job" {
  description = "The Cloud Run job; run it by hand with `gcloud run jobs execute <name> --region <region>`."
  value       = google_cloud_run_v2_job.digest.name
}

output "schedulers" {
  description = "Cloud Scheduler job per department."
  value       = { for name, job in google_cloud_scheduler_job.digest : name => job.name }
}
