"""The commented configuration template written by ``hks-tui config init``."""

from __future__ import annotations

TEMPLATE = """\
# HKS TUI configuration.
#
# Location: $XDG_CONFIG_HOME/hks-tui/config.toml (usually ~/.config/hks-tui/config.toml).
# Every setting can be overridden by an HKS_* environment variable, nested with "__", e.g.
#   HKS_DEFAULT_PROFILE=prod   HKS_UI__THEME=light   HKS_PROFILES__PROD__PROXMOX__TIMEOUT=30
#
# Secrets are never written here. Name them by reference instead:
#   env:NAME       the environment variable NAME
#   file:PATH      the content of PATH; the file must be private (chmod 600 PATH)
#   keyring:NAME   the OS keyring, service "hks-tui" (pip install 'hks-tui[keyring]')
#
# With no profile at all, `hks-tui` opens the embedded lab (a simulator on loopback).

# The profile used when --profile is not given (optional when there is exactly one profile).
# default_profile = "prod"

# Price of storage volumes per GiB and month.
storage_price_gib_month = 0.10

[ui]
theme = "dark"            # "dark" or "light"
quota_warning = 0.80      # quota gauges turn amber at this fraction ...
quota_critical = 0.95     # ... and red at this one

# Instance types offered for dedicated nodes (these are the defaults; uncomment to change them).
# [[catalog]]
# name = "S"
# vcpu = 2
# ram_gib = 4
# disk_gib = 40
# monthly_price = 40.0
#
# [[catalog]]
# name = "M"
# vcpu = 4
# ram_gib = 8
# disk_gib = 80
# monthly_price = 80.0

# One profile per workspace. Uncomment and fill in.
# [profiles.prod]
# org = "acme"
# workspace = "prod"                                   # the workspace (vCluster) name
# prometheus_url = "http://prometheus.example.com:9090" # optional; without it usage comes from Kubernetes
#
# [profiles.prod.proxmox]
# url = "https://pve1.example.com:8006"
# token_id = "hks@pve!console"                         # USER@REALM!TOKENID
# token_secret = "env:HKS_PVE_TOKEN"                   # or "file:~/.config/hks-tui/pve-token" (chmod 600)
# # TLS: verification is on. Trust the cluster CA, or pin the certificate's SHA-256 fingerprint:
# # ca_file = "~/.config/hks-tui/pve-root-ca.pem"
# fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
# # insecure = true                                    # skips verification: a red banner stays on screen
# timeout = 10.0                                       # seconds per request
#
# [profiles.prod.regions.tokyo]
# pve_nodes = ["pve1", "pve2"]
# storage = "local-lvm"
# bridge = "vmbr0"
# template_vmid = { pve1 = 9000, pve2 = 9001 }         # cloud-init template per node
#
# [profiles.prod.host_cluster]                         # the host K3s cluster
# kubeconfig = "~/.kube/config"
# context = "host"
#
# [profiles.prod.vcluster]                             # the workspace's vCluster
# kubeconfig = "~/.kube/config"
# context = "vcluster-prod"
#
# [profiles.prod.k3s]                                  # how new dedicated nodes join the host cluster
# url = "https://k3s.example.com:6443"
# agent_token = "env:HKS_K3S_AGENT_TOKEN"
"""
