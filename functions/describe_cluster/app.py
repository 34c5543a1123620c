"""A demo cluster-context provider (SPEC §6): what a platform would answer about a customer's cluster,
for the demo orgs. The template deploys it only when DemoClusterContext is true (the local stack
turns it on); in production, ClusterContextFunctionArn names the platform's own provider.

Request: {"org_id": "...", "cluster_id": "..."}. Answer: the cluster's context, or {} for a cluster
the org does not have (the reviewer then says the context was unavailable)."""

from typing import Any

CLUSTERS: dict[str, dict[str, dict[str, Any]]] = {
    "acme": {
        # Cloudfleet's documentation's example cluster id
        "60c72b2f9f1b2c001f8e4d3a": {
            "name": "prod-eu", "region": "eu-central-1", "version": "1.29.4", "status": "degraded",
            "nodes": {"ready": 4, "total": 6},
            "recent_warnings": [
                {"reason": "NodeNotReady", "message": "Node ip-10-0-3-17 status is now: NodeNotReady", "count": 3,
                 "last_seen": "2026-12-06T09:58:00Z"},
                {"reason": "FailedScheduling", "message": "0/6 nodes are available: 2 node(s) had untolerated taint",
                 "count": 12, "last_seen": "2026-12-06T10:02:00Z"},
            ],
        },
        "c-staging-1": {
            "name": "staging", "region": "eu-west-1", "version": "1.30.1", "status": "healthy",
            "nodes": {"ready": 3, "total": 3}, "recent_warnings": [],
        },
    },
    "globex": {
        "c-globex-prod": {
            "name": "globex-prod", "region": "us-east-1", "version": "1.28.9", "status": "healthy",
            "nodes": {"ready": 8, "total": 8}, "recent_warnings": [],
        },
    },
}  # fmt: skip


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    org_id, cluster_id = str(event.get("org_id", "")), str(event.get("cluster_id", ""))
    cluster = CLUSTERS.get(org_id, {}).get(cluster_id)
    return {"cluster_id": cluster_id, **cluster} if cluster else {}
