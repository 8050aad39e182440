# The DuckLake catalog: PostgreSQL on Cloud SQL, private IP only, TLS required.
# Many writers (Dataflow workers) commit to it; it holds metadata (snapshots, file
# lists, column statistics), the Parquet files live in the bucket (docs/ducklake.md).

resource "google_sql_database_instance" "catalog" {
  name                = "${var.name}-catalog"
  region              = var.region
  database_version    = "POSTGRES_16"
  deletion_protection = var.deletion_protection

  settings {
    tier              = var.db_tier
    edition           = "ENTERPRISE"
    availability_type = "ZONAL"
    disk_size         = var.db_disk_gb
    disk_autoresize   = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.voc.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }

    database_flags {
      name  = "max_connections"
      value = "200" # ~1 per worker harness thread that commits, plus readers
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "lake" {
  name     = "voc"
  instance = google_sql_database_instance.catalog.name
}

# The password ends up in the Terraform state (as any google_sql_user's does): keep
# the state in a bucket only the deployers can read. Readers get it from Secret Manager.
resource "random_password" "catalog" {
  length  = 32
  special = false
}

resource "google_sql_user" "lake" {
  name     = "voc"
  instance = google_sql_database_instance.catalog.name
  password = random_password.catalog.result
}

resource "google_secret_manager_secret" "catalog_password" {
  secret_id = "${var.name}-catalog-password"
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_version" "catalog_password" {
  secret      = google_secret_manager_secret.catalog_password.id
  secret_data = random_password.catalog.result
}

locals {
  # The catalog setting without the password: libpq reads it from PGPASSWORD (the
  # digest job) or it is appended at launch (make dataflow-run; docs/deploy.md).
  catalog = "postgres:dbname=${google_sql_database.lake.name} host=${google_sql_database_instance.catalog.private_ip_address} user=${google_sql_user.lake.name} sslmode=require"
}
