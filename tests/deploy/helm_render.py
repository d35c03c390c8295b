#!/usr/bin/env python3
"""Renders helm/matomo-gateway with helmrender (Helm's template engine, built from Debian packages) under
several value sets and checks the manifests (driven by helm_render.sh).

  helm_render.py HELMRENDER CHART_DIR GATEWAY_BINARY DASHBOARD_JSON

Every rendered document must parse as YAML and carry apiVersion, kind, metadata.name and the chart's
labels. The Deployment must keep its promises (probes on the admin port, non-root, read-only root
filesystem, no capabilities, grace period longer than the drain), and the real gateway binary must
accept the configuration the chart produces (the ConfigMap's TOML plus the container's environment,
with $(VAR) expanded as Kubernetes does) in --check-config. Invalid values must fail rendering with a
message naming the value.
"""
import base64
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import yaml  # Debian: python3-yaml

renderer, chart_dir, binary, dashboard = sys.argv[1:5]
rules_file = os.path.join(os.path.dirname(os.path.abspath(dashboard)), "..", "prometheus", "matomo-gateway-rules.yml")
failures = []
work = tempfile.mkdtemp(prefix="mgw-helm-render.")


def fail(scenario, msg):
    failures.append(msg)
    print(f"FAIL: [{scenario}] {msg}")


def ok(scenario, msg):
    print(f"ok:   [{scenario}] {msg}")


def render(scenario, values=None, api_versions=""):
    """(documents, error text)."""
    args = [renderer, "-chart", chart_dir, "-release", "mgw", "-namespace", "analytics"]
    if values:
        path = os.path.join(work, f"{re.sub(r'[^a-z0-9]+', '-', scenario)}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(values, f)
        args += ["-f", path]
    if api_versions:
        args += ["-api-versions", api_versions]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    try:
        docs = [d for d in yaml.safe_load_all(r.stdout) if d is not None]
    except yaml.YAMLError as e:
        fail(scenario, f"rendered output is not YAML: {e}\n{r.stdout}")
        return [], ""
    return docs, ""


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(scenario, docs, kind, name_suffix=""):
    found = [d for d in by_kind(docs, kind) if d["metadata"]["name"].endswith(name_suffix)]
    if len(found) != 1:
        fail(scenario, f"expected one {kind} named *{name_suffix}, found {len(found)}")
        return {}
    return found[0]


def check_common(scenario, docs):
    for d in docs:
        where = f"{d.get('kind')} {d.get('metadata', {}).get('name')}"
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d:
                fail(scenario, f"{where}: no {key}")
        meta = d.get("metadata", {})
        name = meta.get("name", "")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
            fail(scenario, f"{where}: name {name!r} is not a DNS label")
        labels = meta.get("labels", {})
        for label in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart"):
            if label not in labels:
                fail(scenario, f"{where}: no label {label}")
        for k, v in labels.items():
            if not isinstance(v, str):
                fail(scenario, f"{where}: label {k} is {type(v).__name__}, not a string")


def container(deploy):
    return deploy["spec"]["template"]["spec"]["containers"][0]


def env_map(c, secrets):
    """The container's environment, $(VAR) expanded as the kubelet does; secretKeyRef from `secrets`."""
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                                    lambda m: env.get(m.group(1), m.group(0)), str(e["value"]))
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def check_deployment(scenario, docs, values_drain=(5000, 15000, 5)):
    before = len(failures)
    d = one(scenario, docs, "Deployment")
    if not d:
        return {}
    pod = d["spec"]["template"]
    spec = pod["spec"]
    c = container(d)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in ("admin", ports.get("admin")):
            fail(scenario, f"{probe} is {get}, expected GET {path} on the admin port")
    if "admin" not in ports or "http" not in ports:
        fail(scenario, f"container ports {ports}: expected http and admin")
    psc, sc = spec.get("securityContext", {}), c.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True and sc.get("runAsNonRoot") is not True:
        fail(scenario, "runAsNonRoot is not set")
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(scenario, "readOnlyRootFilesystem is not true")
    if sc.get("capabilities", {}).get("drop") != ["ALL"]:
        fail(scenario, f"capabilities.drop is {sc.get('capabilities')}, expected [ALL]")
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(scenario, "allowPrivilegeEscalation is not false")
    if not c.get("resources"):
        fail(scenario, "no resources")
    if spec.get("enableServiceLinks") is not False:
        fail(scenario, "enableServiceLinks is not false: Services named like the release inject MATOMO_GATEWAY_* variables")
    delay, timeout, extra = values_drain
    grace = spec.get("terminationGracePeriodSeconds")
    if not isinstance(grace, int) or grace <= (delay + timeout) / 1000:
        fail(scenario, f"terminationGracePeriodSeconds {grace} is not longer than the drain ({delay}+{timeout} ms)")
    elif grace != math.ceil((delay + timeout) / 1000) + extra:
        fail(scenario, f"terminationGracePeriodSeconds {grace}, expected ceil(({delay}+{timeout})/1000)+{extra}")
    sel = d["spec"]["selector"]["matchLabels"]
    if any(pod["metadata"]["labels"].get(k) != v for k, v in sel.items()):
        fail(scenario, "the selector does not match the pod labels")
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for name in mounts:
        if name not in volumes:
            fail(scenario, f"volumeMount {name} has no volume")
    args = c.get("args", [])
    if "--config" not in args:
        fail(scenario, "--config is not passed")
    else:
        path = args[args.index("--config") + 1]
        cfg = mounts.get("config", {})
        if cfg.get("mountPath") != path:
            fail(scenario, f"--config {path} is not where the ConfigMap is mounted ({cfg.get('mountPath')})")
    if len(failures) == before:
        ok(scenario, f"Deployment: probes, security context, no service links, grace period {grace}s, config mount")
    return d


def check_with_binary(scenario, docs, secrets, expect):
    """Runs the gateway's --check-config on the configuration the chart gives the container."""
    d = one(scenario, docs, "Deployment")
    cm = [x for x in by_kind(docs, "ConfigMap") if "config.toml" in x.get("data", {})]
    if not d or len(cm) != 1:
        fail(scenario, "no Deployment or config ConfigMap to check")
        return
    c = container(d)
    toml_path = os.path.join(work, f"{scenario}.toml")
    with open(toml_path, "w") as f:
        f.write(cm[0]["data"]["config.toml"])
    args = list(c.get("args", []))
    pod_paths = {"--matomo-token-file", "--spool-dir"}  # paths that exist only in the pod
    kept, i = [], 0
    while i < len(args):
        if args[i] in pod_paths:
            i += 2
            continue
        kept.append(toml_path if i > 0 and args[i - 1] == "--config" else args[i])
        i += 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATOMO_GATEWAY_")}
    env.update(env_map(c, secrets))
    r = subprocess.run([binary, *kept, "--check-config"], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        fail(scenario, f"the gateway rejects the chart's configuration: {r.stderr.strip()}")
        return
    for key, value in expect.items():
        if f'{key} = "{value}"' not in r.stdout:
            fail(scenario, f"--check-config does not show {key} = {value!r}:\n{r.stdout}")
            return
    for s in secrets.values():
        if s and s in r.stdout:
            fail(scenario, "--check-config prints a secret")
    ok(scenario, f"the gateway accepts the chart's config and env ({', '.join(f'{k}={v}' for k, v in expect.items())})")


def expect_failure(scenario, values, needle):
    docs, err = render(scenario, values)
    if docs is not None:
        fail(scenario, f"rendering succeeded, expected a failure mentioning {needle!r}")
    elif needle not in err:
        fail(scenario, f"rendering failed without mentioning {needle!r}: {err}")
    else:
        ok(scenario, "refused: " + err.rsplit("error calling fail: ", 1)[-1])


def check_queue_workers():
    """The worker StatefulSet: one pod per queue, each on the queue its ordinal names, off by default."""
    s = "queue-workers"
    for queues in (1, 4, 16):
        values = {"redis": {"numQueueWorkers": queues},
                  "queueWorkers": {"enabled": True, "image": {"repository": "registry.example/matomo-qt", "tag": "5.1"},
                                   "configSecret": "matomo-config"}}
        docs, err = render(f"{s}-{queues}", values)
        if docs is None:
            fail(s, f"rendering with {queues} queues failed: {err}")
            continue
        check_common(s, docs)
        sts = one(s, docs, "StatefulSet", "-queue-worker")
        if not sts:
            continue
        if sts["spec"].get("replicas") != queues:
            fail(s, f"StatefulSet replicas {sts['spec'].get('replicas')}, expected redis.numQueueWorkers = {queues}")
        if sts["spec"].get("podManagementPolicy") != "Parallel":
            fail(s, "the workers do not start in parallel")
        svc = [d for d in by_kind(docs, "Service") if d["metadata"]["name"] == sts["spec"].get("serviceName")]
        if len(svc) != 1 or svc[0]["spec"].get("clusterIP") != "None":
            fail(s, f"serviceName {sts['spec'].get('serviceName')} is not a headless Service of the chart")
        # The gateway's Services and Deployment must not select worker pods, nor the workers' the gateway's.
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        if any(pod_labels.get(k) != v for k, v in sts["spec"]["selector"]["matchLabels"].items()):
            fail(s, "the StatefulSet's selector does not match its pods")
        gateway = one(s, docs, "Deployment")
        for d in by_kind(docs, "Service") + [gateway]:
            sel = d["spec"]["selector"]
            sel = sel.get("matchLabels", sel)
            if d is not svc[0] and all(pod_labels.get(k) == v for k, v in sel.items()):
                fail(s, f"{d['kind']} {d['metadata']['name']} selects the worker pods")
        c = sts["spec"]["template"]["spec"]["containers"][0]
        script = " ".join(c.get("command", []))
        if "queuedtracking:process --queue-id=\"$queue\"" not in script or 'queue="${HOSTNAME##*-}"' not in script:
            fail(s, f"the worker does not take its queue from its ordinal: {script}")
        if c.get("image") != "registry.example/matomo-qt:5.1":
            fail(s, f"worker image {c.get('image')}")
        mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
        vols = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
        m = mounts.get("matomo-config", {})
        if (m.get("mountPath") != "/usr/src/matomo/config/config.ini.php" or m.get("subPath") != "config.ini.php"
                or vols.get("matomo-config", {}).get("secret", {}).get("secretName") != "matomo-config"):
            fail(s, f"config.ini.php is not mounted from the Secret: {m} {vols}")
        if c.get("workingDir") != "/usr/src/matomo":
            fail(s, f"workingDir {c.get('workingDir')}")
        # The ConfigMap's queues and the StatefulSet's replicas come from the same value.
        cm = one(s, docs, "ConfigMap")
        toml = next(iter(cm.get("data", {}).values()), "") if cm else ""
        if f"queues = {queues}" not in toml:
            fail(s, f"the gateway's config does not say queues = {queues}")
    ok(s, "StatefulSet replicas equal redis.numQueueWorkers (1, 4, 16); each pod's queue is its ordinal")
    # The shell part of the command: the ordinal of real pod names, and a refusal without one.
    script = None
    docs, _ = render(s, {"queueWorkers": {"enabled": True, "image": {"repository": "m"}, "configSecret": "c"}})
    if docs:
        sts = one(s, docs, "StatefulSet", "-queue-worker")
        script = sts["spec"]["template"]["spec"]["containers"][0]["command"][2] if sts else None
    if script:
        probe = script.split("\n")[0] + '\necho "$queue"'
        for hostname, want in (("mgw-matomo-gateway-queue-worker-0", "0"), ("mgw-matomo-gateway-queue-worker-12", "12")):
            r = subprocess.run(["sh", "-c", probe], env={"HOSTNAME": hostname, "PATH": "/usr/bin:/bin"},
                               capture_output=True, text=True)
            if r.stdout.strip() != want:
                fail(s, f"pod {hostname} would process queue {r.stdout.strip()!r}, expected {want}")
        two = "\n".join(script.split("\n")[:2]) + '\necho "$queue"'
        r = subprocess.run(["sh", "-c", two], env={"HOSTNAME": "worker", "PATH": "/usr/bin:/bin"},
                           capture_output=True, text=True)
        if r.returncode == 0:
            fail(s, "a pod name without an ordinal does not stop the worker")
        ok(s, "pod names ending in 0 and 12 give --queue-id=0 and 12; a name without a number is refused")


def main():
    # 1. Defaults, no Prometheus Operator.
    s = "defaults"
    docs, err = render(s)
    if docs is None:
        fail(s, f"rendering failed: {err}")
        return 1
    check_common(s, docs)
    kinds = sorted(d["kind"] for d in docs)
    want = sorted(["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "Service", "ServiceAccount"])
    if kinds != want:
        fail(s, f"kinds {kinds}, expected {want}")
    else:
        ok(s, f"renders {', '.join(kinds)} (no ServiceMonitor without its API, no Secret, HPA or PVC)")
    check_deployment(s, docs)
    svc = one(s, docs, "Service", "mgw-matomo-gateway")
    if svc and [p["targetPort"] for p in svc["spec"]["ports"]] != ["http"]:
        fail(s, f"the tracking Service exposes {svc['spec']['ports']}, expected only the tracking port")
    d = one(s, docs, "Deployment")
    if d and d["spec"].get("replicas") != 2:
        fail(s, "replicas is not replicaCount")
    if d and any("valueFrom" in e for e in container(d).get("env", [])):
        fail(s, "a secret is referenced without a password")
    check_with_binary(s, docs, {}, {"queues": "1", "redis": "redis://redis-master:6379/0",
                                    "listen": "0.0.0.0:8080", "admin_listen": "0.0.0.0:9090",
                                    "drain_delay_ms": "5000", "drain_timeout_ms": "15000"})

    # 2. With the Prometheus Operator's API.
    s = "servicemonitor"
    docs, err = render(s, None, "monitoring.coreos.com/v1")
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        sm = one(s, docs, "ServiceMonitor")
        msvc = one(s, docs, "Service", "-metrics")
        if sm and msvc:
            sel = sm["spec"]["selector"]["matchLabels"]
            if any(msvc["metadata"]["labels"].get(k) != v for k, v in sel.items()):
                fail(s, "the ServiceMonitor selects no metrics Service")
            tracking = one(s, docs, "Service", "mgw-matomo-gateway")
            if tracking and all(tracking["metadata"]["labels"].get(k) == v for k, v in sel.items()):
                fail(s, "the ServiceMonitor also selects the tracking Service")
            port = sm["spec"]["endpoints"][0]["port"]
            if port not in [p["name"] for p in msvc["spec"]["ports"]]:
                fail(s, f"ServiceMonitor port {port} is not a port of the metrics Service")
            if sm["spec"]["endpoints"][0].get("path") != "/metrics":
                fail(s, "ServiceMonitor path is not /metrics")
            ok(s, "ServiceMonitor selects the metrics Service's admin port")

    # 2b. The public edge: an origin and the Ingress that routes exactly the public paths to the gateway.
    s = "public-edge"
    docs, err = render(s, {"matomoOrigin": "http://matomo.matomo.svc:8080", "ingress": {"enabled": True}})
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        ing = one(s, docs, "Ingress")
        if ing:
            paths = ing["spec"]["rules"][0]["http"]["paths"]
            got = sorted((p["path"], p["pathType"]) for p in paths)
            want = sorted([("/matomo.php", "Exact"), ("/piwik.php", "Exact"), ("/matomo.js", "Exact"),
                           ("/piwik.js", "Exact"), ("/index.php", "Exact"), ("/js/", "Prefix"),
                           ("/plugins/HeatmapSessionRecording/configs.php", "Exact")])
            if got != want:
                fail(s, f"Ingress paths {got}, expected {want}")
            elif any(p["backend"]["service"]["name"] != "mgw-matomo-gateway" or
                     p["backend"]["service"]["port"]["number"] != 80 for p in paths):
                fail(s, "an Ingress path does not lead to the tracking Service")
            else:
                ok(s, "the Ingress routes exactly the public paths to the gateway")
        check_with_binary(s, docs, {}, {"matomo_origin": "http://matomo.matomo.svc:8080"})

    # 3. Everything on: password, token, autoscaling, dashboard, spool, trusted proxies, 4 queues.
    s = "everything"
    values = {
        "redis": {"password": "s3cr3t-pw", "numQueueWorkers": 4, "database": 2, "host": "redis.analytics"},
        "matomoToken": "0123456789abcdef0123456789abcdef",
        "autoscaling": {"enabled": True},
        "grafanaDashboard": {"enabled": True, "namespace": "monitoring"},
        "spool": {"enabled": True},
        "trustedProxies": ["10.0.0.0/8", "192.168.0.0/16"],
        "drain": {"delayMs": 10500, "timeoutMs": 30000, "terminationGraceExtraSeconds": 3},
        "config": {"access_log_sample": 0.25, "log_level": "warn"},
        "extraEnv": [{"name": "TZ", "value": "UTC"}],
    }
    docs, err = render(s, values)
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        d = check_deployment(s, docs, (10500, 30000, 3))
        if d and "replicas" in d["spec"]:
            fail(s, "replicas is set although the HPA owns it")
        hpa = one(s, docs, "HorizontalPodAutoscaler")
        if hpa and hpa["spec"]["scaleTargetRef"]["name"] != d["metadata"]["name"]:
            fail(s, "the HPA targets another Deployment")
        secrets = {}
        for sec in by_kind(docs, "Secret"):
            for k, v in sec.get("data", {}).items():
                secrets[(sec["metadata"]["name"], k)] = base64.b64decode(v).decode()
        if ("mgw-matomo-gateway-redis", "redis-password") not in secrets:
            fail(s, f"no chart-made Redis password Secret: {list(secrets)}")
        c = container(d) if d else {}
        env_names = [e["name"] for e in c.get("env", [])]
        if "MGW_REDIS_PASSWORD" in env_names and env_names.index("MGW_REDIS_PASSWORD") > env_names.index("MATOMO_GATEWAY_REDIS"):
            fail(s, "MGW_REDIS_PASSWORD comes after MATOMO_GATEWAY_REDIS: Kubernetes would not expand it")
        if any("s3cr3t-pw" in json.dumps(x) for x in docs if x.get("kind") != "Secret"):
            fail(s, "the Redis password appears outside its Secret")
        args = c.get("args", [])
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        if "--matomo-token-file" in args:
            token_path = args[args.index("--matomo-token-file") + 1]
            if os.path.dirname(token_path) != mounts.get("matomo-token"):
                fail(s, f"--matomo-token-file {token_path} is not in the token mount {mounts.get('matomo-token')}")
        else:
            fail(s, "--matomo-token-file is not passed")
        if "--spool-dir" not in args or args[args.index("--spool-dir") + 1] != mounts.get("spool"):
            fail(s, f"--spool-dir does not name the spool mount: {args} {mounts}")
        if "--trusted-proxies" not in args or args[args.index("--trusted-proxies") + 1] != "10.0.0.0/8,192.168.0.0/16":
            fail(s, f"--trusted-proxies is not the comma-joined list: {args}")
        dash = one(s, docs, "ConfigMap", "-dashboard")
        if dash:
            if dash["metadata"]["labels"].get("grafana_dashboard") != "1":
                fail(s, "the dashboard ConfigMap lacks the grafana_dashboard: \"1\" label")
            if dash["metadata"].get("namespace") != "monitoring":
                fail(s, "the dashboard ConfigMap is not in grafanaDashboard.namespace")
            with open(dashboard) as f:
                if json.loads(dash["data"]["matomo-gateway.json"]) != json.load(f):
                    fail(s, "the dashboard ConfigMap differs from deploy/grafana/matomo-gateway.json")
        ok(s, "HPA, Secrets, token and spool mounts, trusted proxies, dashboard ConfigMap")
        check_with_binary(s, docs, secrets, {
            "queues": "4", "redis": "redis://:***@redis.analytics:6379/2", "drain_delay_ms": "10500",
            "drain_timeout_ms": "30000", "access_log_sample": "0.250000", "log_level": "warn"})

    # 4. Existing Secrets: nothing secret is rendered, the references name the given Secrets.
    s = "existing-secrets"
    docs, err = render(s, {"redis": {"existingSecret": "redis", "existingSecretPasswordKey": "pw"},
                           "matomoTokenExistingSecret": "matomo", "podDisruptionBudget": {"maxUnavailable": "",
                                                                                          "minAvailable": 1}})
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        if by_kind(docs, "Secret"):
            fail(s, "a Secret is rendered although existing ones are given")
        d = one(s, docs, "Deployment")
        refs = [e["valueFrom"]["secretKeyRef"] for e in container(d).get("env", []) if "valueFrom" in e] if d else []
        if refs != [{"name": "redis", "key": "pw"}]:
            fail(s, f"Redis password reference is {refs}")
        vols = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]} if d else {}
        if vols.get("matomo-token", {}).get("secret", {}).get("secretName") != "matomo":
            fail(s, "the token volume does not use matomoTokenExistingSecret")
        pdb = one(s, docs, "PodDisruptionBudget")
        if pdb and (pdb["spec"].get("minAvailable") != 1 or "maxUnavailable" in pdb["spec"]):
            fail(s, f"PodDisruptionBudget spec {pdb['spec']}")
        check_with_binary(s, docs, {("redis", "pw"): "from-existing"}, {"redis": "redis://:***@redis-master:6379/0"})
        ok(s, "existing Secrets referenced, none rendered")

    # 5. Spool on a PVC with one replica.
    s = "spool-pvc"
    docs, err = render(s, {"replicaCount": 1, "spool": {"enabled": True, "type": "persistentVolumeClaim"}})
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        pvc = one(s, docs, "PersistentVolumeClaim")
        d = one(s, docs, "Deployment")
        vols = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]} if d else {}
        if pvc and vols.get("spool", {}).get("persistentVolumeClaim", {}).get("claimName") != pvc["metadata"]["name"]:
            fail(s, "the spool volume does not use the chart's PVC")
        ok(s, "PVC rendered and mounted")

    # 6. Sentinel and Cluster, as QueuedTracking configures them: comma-separated hosts and ports.
    s = "sentinel"
    docs, err = render(s, {"redis": {"backendType": "sentinel", "host": "sentinel-0, sentinel-1,fd00::7",
                                     "port": "26379,26379, 26380", "sentinelMasterName": "matomo-master",
                                     "database": 3, "password": "s3cret"}})
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        secrets = {}
        for sec in by_kind(docs, "Secret"):
            for k, v in sec.get("data", {}).items():
                secrets[(sec["metadata"]["name"], k)] = base64.b64decode(v).decode()
        check_with_binary(s, docs, secrets, {
            "redis": "redis-sentinel://:***@sentinel-0:26379,sentinel-1:26379,[fd00::7]:26380/3?master=matomo-master",
            "redis_wait_replicas": "1"})
    s = "sentinel-no-wait"
    docs, err = render(s, {"redis": {"backendType": "sentinel", "host": "a,b", "port": "26379,26379"},
                           "config": {"redis_wait_replicas": 0}})
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_with_binary(s, docs, {}, {"redis": "redis-sentinel://a:26379,b:26379/0?master=mymaster",
                                        "redis_wait_replicas": "0"})
    s = "cluster"
    docs, err = render(s, {"redis": {"backendType": "cluster", "host": "redis-0,redis-1,redis-2",
                                     "port": "6379,6379,6379", "database": 5}})
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        check_common(s, docs)
        check_with_binary(s, docs, {}, {"redis": "redis-cluster://redis-0:6379,redis-1:6379,redis-2:6379",
                                        "redis_wait_replicas": "0"})

    # 7. Queue workers (off by default, see 1.) and the PrometheusRule with the Operator's API.
    check_queue_workers()
    s = "prometheusrule"
    docs, err = render(s, None, "monitoring.coreos.com/v1")
    if docs is None:
        fail(s, f"rendering failed: {err}")
    else:
        rule = one(s, docs, "PrometheusRule")
        with open(rules_file) as f:
            shipped = yaml.safe_load(f)
        if rule and rule["spec"] != shipped:
            fail(s, "the PrometheusRule's spec differs from deploy/prometheus/matomo-gateway-rules.yml")
        elif rule:
            ok(s, f"PrometheusRule with the {sum(len(g['rules']) for g in shipped['groups'])} rules of the rules file")
    docs, err = render(s, {"metrics": {"prometheusRule": {"enabled": False}}}, "monitoring.coreos.com/v1")
    if docs is not None and by_kind(docs, "PrometheusRule"):
        fail(s, "a PrometheusRule is rendered although metrics.prometheusRule.enabled is false")

    # 8. Values the chart must refuse.
    expect_failure("sentinel-master-name", {"redis": {"backendType": "sentinel", "host": "a", "port": "26379",
                                                      "sentinelMasterName": "my master"}}, "sentinelMasterName")
    expect_failure("sentinel-no-master", {"redis": {"backendType": "sentinel", "host": "a", "port": "26379",
                                                    "sentinelMasterName": ""}}, "sentinelMasterName must be set")
    expect_failure("cluster-port", {"redis": {"backendType": "cluster", "host": "a,b", "port": "7000,x"}},
                   "not a port number")
    expect_failure("cluster-unix", {"redis": {"backendType": "cluster", "host": "/run/r.sock", "port": "0"}},
                   "no unix socket")
    expect_failure("sentinel-mismatch", {"redis": {"backendType": "sentinel", "host": "a,b", "port": "26379"}},
                   "same number of entries")
    expect_failure("bad-backend", {"redis": {"backendType": "mysql"}}, "redis.backendType")
    expect_failure("reserved-config", {"config": {"queues": 4}}, "config.queues is set by the chart")
    expect_failure("queues-range", {"redis": {"numQueueWorkers": 0}}, "numQueueWorkers")
    expect_failure("grace-extra", {"drain": {"terminationGraceExtraSeconds": 0}}, "terminationGraceExtraSeconds")
    expect_failure("pvc-replicas", {"spool": {"enabled": True, "type": "persistentVolumeClaim"}}, "one replica")
    expect_failure("pvc-rwx-replicas", {"spool": {"enabled": True, "type": "persistentVolumeClaim",
                                                  "persistentVolumeClaim": {"accessModes": ["ReadWriteMany"]}}}, "one replica")
    expect_failure("pdb-both", {"podDisruptionBudget": {"minAvailable": 1, "maxUnavailable": 1}}, "not both")
    expect_failure("unix-host", {"redis": {"host": "/run/redis.sock"}}, "redis.host")
    expect_failure("workers-no-image", {"queueWorkers": {"enabled": True, "configSecret": "matomo-config"}},
                   "queueWorkers.image.repository")
    expect_failure("workers-no-config", {"queueWorkers": {"enabled": True, "image": {"repository": "matomo-qt"}}},
                   "queueWorkers.configSecret")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        import traceback
        traceback.print_exc()
        print("FAIL: a rendered manifest does not have the expected structure (see the traceback)")
        sys.exit(1)
    finally:
        subprocess.run(["rm", "-rf", work])
