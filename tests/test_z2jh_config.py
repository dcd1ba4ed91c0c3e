"""deploy/z2jh/config.yaml: valid YAML whose every key is one the Zero to JupyterHub chart documents.

No Kubernetes here, so the chart itself never reads the file in a test. The chart's values
schema (jupyterhub/values.schema.yaml in jupyterhub/zero-to-jupyterhub-k8s, read at commit
02dd73df01bdbb6d602fed21b0be12565ab38080; every object there has additionalProperties: false
except the free-form ones marked ANY below) is not shipped by any package we can install,
so the keys this file may use are written down here, copied from that schema: a misspelt or
unknown key fails, as `helm` itself would refuse it. The values are checked against what
the repository says elsewhere (the exchange, the data folder, the threads, the settings
folders that the image holds).
"""
import re

import pytest
import yaml

from tiny import REPO

CONFIG = REPO / "deploy" / "z2jh" / "config.yaml"
ANY = "any"  # a free-form mapping in the chart (passed through to JupyterHub or Kubernetes)
QUANTITY = re.compile(r"^\d+(\.\d+)?[KMGT]i?$")  # the chart's memory sizes: 1G, 512M, 2Gi ...
# The documented keys (a subset of the schema: the parts a class needs), as nested mappings.
KEYS = {
    "hub": {"baseUrl": str, "config": ANY, "extraConfig": ANY, "extraEnv": ANY,
            "db": {"type": str, "pvc": {"storage": str}}},
    "singleuser": {
        "image": {"name": str, "tag": str, "pullPolicy": str},
        "defaultUrl": str, "cmd": ANY, "startTimeout": int, "uid": int, "fsGid": int,
        "cpu": {"limit": (int, float), "guarantee": (int, float)},
        "memory": {"limit": str, "guarantee": str},
        "extraEnv": ANY, "extraFiles": ANY, "profileList": list, "networkPolicy": ANY,
        "storage": {"type": str, "capacity": str, "homeMountPath": str, "extraVolumes": list,
                    "extraVolumeMounts": list, "dynamic": {"storageClass": str},
                    "static": {"pvcName": str, "subPath": str}},
    },
    "cull": {"enabled": bool, "timeout": int, "every": int, "maxAge": int, "users": bool},
    "scheduling": {"userScheduler": {"enabled": bool}},
    "prePuller": {"hook": {"enabled": bool}, "continuous": {"enabled": bool}},
}


def _unknown(values, keys, where=""):
    """The key paths in ``values`` that ``keys`` does not document, or whose values have the wrong type."""
    found = []
    for key, value in values.items():
        path = f"{where}.{key}".lstrip(".")
        if key not in keys:
            found.append(f"{path}: not a documented key")
        elif isinstance(keys[key], dict):
            found += _unknown(value, keys[key], path) if isinstance(value, dict) else [f"{path}: not a mapping"]
        elif keys[key] is not ANY and not isinstance(value, keys[key]):
            found.append(f"{path}: {type(value).__name__}, expected {keys[key]}")
    return found


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load(CONFIG.read_text())


def test_every_key_is_documented_by_the_chart(config):
    assert _unknown(config, KEYS) == []


def test_the_check_finds_unknown_keys_and_wrong_types():
    values = {"singleuser": {"memory": {"limt": "1G"}, "cpu": {"limit": "one"}}, "hubb": {}}
    assert _unknown(values, KEYS) == ["singleuser.memory.limt: not a documented key",
                                      f"singleuser.cpu.limit: str, expected {(int, float)}",
                                      "hubb: not a documented key"]


def test_limits_are_quantities_and_each_guarantee_fits_under_its_limit(config):
    memory, cpu = config["singleuser"]["memory"], config["singleuser"]["cpu"]
    assert QUANTITY.match(memory["guarantee"]) and QUANTITY.match(memory["limit"]), memory

    def size(text):
        number, unit = re.match(r"^([\d.]+)([KMGT])", text).groups()
        return float(number) * 1000 ** "KMGT".index(unit)
    assert size(memory["guarantee"]) <= size(memory["limit"])
    assert 0 < cpu["guarantee"] <= cpu["limit"]


def test_the_single_user_environment_is_the_one_the_hub_test_uses(config):
    env = config["singleuser"]["extraEnv"]
    assert all(isinstance(v, str) for v in env.values()), env  # Kubernetes wants strings
    assert env["OMP_NUM_THREADS"] == "1"
    mounts = {m["name"]: m for m in config["singleuser"]["storage"]["extraVolumeMounts"]}
    volumes = {v["name"] for v in config["singleuser"]["storage"]["extraVolumes"]}
    assert set(mounts) == volumes
    assert env["D2LRNN_DATA_DIR"] == mounts["d2lrnn-data"]["mountPath"] and mounts["d2lrnn-data"]["readOnly"]
    assert env["D2LRNN_EXCHANGE"] == mounts["nbgrader-exchange"]["mountPath"]
    nbgrader_config = (REPO / "deploy" / "hub" / "jupyter" / "nbgrader_config.py").read_text()
    assert 'os.environ.get("D2LRNN_EXCHANGE"' in nbgrader_config


def test_the_instructor_hook_compiles_and_names_the_folders_the_image_holds(config):
    hook = config["hub"]["extraConfig"]["d2lrnn-instructors"]
    compile(hook, "extraConfig", "exec")
    dockerfile = (REPO / "deploy" / "z2jh" / "Dockerfile").read_text()
    for folder in set(re.findall(r"/etc/d2lrnn/[\w-]+", hook)):
        name = folder.rsplit("/", 1)[1]
        assert f"COPY deploy/hub/{name} {folder}" in dockerfile, folder
        assert (REPO / "deploy" / "hub" / name).is_dir()
    assert "environment.yml" in dockerfile
