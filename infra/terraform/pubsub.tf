# Topics with a schema, the subscriptions the pipeline reads, and a dead-letter topic.
#
# On Dataflow the runner acknowledges a message once it is durably in the job's own
# state (before voc's sink commits; the sink is idempotent on event_id and the job's
# checkpoints cover the rest), so delivery attempts rarely pile up there: the
# dead-letter policy is a backstop for a subscription nothing can take messages from
# (a job that cannot start, a reader of another kind). Messages voc rejects (bad JSON,
# unknown version, implausible time) are acknowledged and land in voc's own
# dead_letters table, with the reason.

resource "google_pubsub_schema" "event" {
  for_each   = var.topics
  name       = "${var.name}-${each.key}"
  type       = "PROTOCOL_BUFFER"
  definition = file("${path.module}/schemas/${each.value.schema_file}")
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "event" {
  for_each                   = var.topics
  name                       = each.value.topic
  message_retention_duration = var.message_retention

  dynamic "schema_settings" {
    for_each = var.enforce_topic_schema ? [1] : []
    content {
      schema   = google_pubsub_schema.event[each.key].id
      encoding = "JSON"
    }
  }
}

resource "google_pubsub_topic" "dead_letter" {
  name                       = "${var.name}-dead-letters"
  message_retention_duration = var.message_retention
  depends_on                 = [google_project_service.apis]
}

# A topic keeps nothing without a subscription: this one holds the dead letters
# until someone looks (`gcloud pubsub subscriptions pull voc-dead-letters-hold`).
resource "google_pubsub_subscription" "dead_letter_hold" {
  name                       = "${google_pubsub_topic.dead_letter.name}-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = var.message_retention
  ack_deadline_seconds       = 60
  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "pipeline" {
  for_each                   = var.topics
  name                       = each.value.subscription
  topic                      = google_pubsub_topic.event[each.key].id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.message_retention

  # Never expire for inactivity: a paused pipeline must find its backlog.
  expiration_policy {
    ttl = ""
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
}

# Pub/Sub's service agent moves messages to the dead-letter topic: it must publish
# there and acknowledge on the source subscriptions.
locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic_iam_member" "agent_publishes_dead_letters" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "agent_acks_dead_letters" {
  for_each     = var.topics
  subscription = google_pubsub_subscription.pipeline[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
