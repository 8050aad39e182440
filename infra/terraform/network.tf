# Private networking: the catalog has a private IP only; Dataflow workers and the
# digest job reach it from this subnetwork, and reach Google APIs (Pub/Sub, GCS,
# Artifact Registry) through Private Google Access, without public IPs.

resource "google_compute_network" "voc" {
  name                    = var.name
  auto_create_subnetworks = false
  depends_on              = [google_project_service.apis]
}

resource "google_compute_subnetwork" "workers" {
  name                     = "${var.name}-workers"
  network                  = google_compute_network.voc.id
  region                   = var.region
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
}

# Dataflow workers talk to each other on 12345-12346 (the documented requirement).
resource "google_compute_firewall" "dataflow_workers" {
  name        = "${var.name}-dataflow-workers"
  network     = google_compute_network.voc.id
  direction   = "INGRESS"
  source_tags = ["dataflow"]
  target_tags = ["dataflow"]
  allow {
    protocol = "tcp"
    ports    = ["12345-12346"]
  }
}

# Private services access, for Cloud SQL's private IP.
resource "google_compute_global_address" "private_services" {
  name          = "${var.name}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.voc.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.voc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}
