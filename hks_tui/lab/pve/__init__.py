"""The lab's Proxmox VE simulator.

* :mod:`.model` — :class:`~.model.PveCluster` (nodes, storages, volumes, VMs, tasks, guest agent,
  ``exec_handlers``), usable directly by the seed and the controllers;
* :mod:`.infra` — :func:`~.infra.build_infrastructure` (pve1/pve2 in ``jp-east``, pve3 in ``jp-west``,
  ``local``/``local-lvm``/``shared-nfs`` storages, templates 9000–9002);
* :mod:`.app` — :func:`~.app.build_pve_app`, the HTTP API under ``/api2/json`` (routes in
  ``routes_cluster``, ``routes_qemu``, ``routes_power``, ``routes_agent``);
* :mod:`.tasks` (UPID workers), :mod:`.agent` (QEMU guest agent), :mod:`.configspec` (parameter
  verification), :mod:`.auth` (tokens, tickets, CSRF).
"""
