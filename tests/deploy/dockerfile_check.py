#!/usr/bin/env python3
"""Keeps the Dockerfile honest without a Docker engine (driven by dockerfile.sh).

  dockerfile_check.py SOURCE_DIR GATEWAY_BINARY

(a) the runtime stage installs exactly the Debian packages that own the shared libraries the binary
    links (ldd + dpkg -S), apart from those debian:bookworm-slim already has, and each listed package
    exists in Debian;
(b) the stages start FROM debian:bookworm and debian:bookworm-slim (by default: ARGs before the first
    FROM let `make image` pass a local base); the build stage runs scripts/install-deps.sh (the Makefile's `deps`) and then the Makefile's
    `build` cmake commands, and copies the binary from that build directory; .dockerignore keeps
    everything the build needs;
(c) the runtime user is numeric and not root, ENTRYPOINT is exec form and runs the copied binary,
    both ports are exposed and the ENV settings are accepted by the binary.
Prints one line per failed check and exits 1 if there is any.
"""
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys

from checklib import fail, failures, ok  # noqa: E402,F401  (tests/deploy/checklib.py)


# ---------------------------------------------------------------- Dockerfile parsing

def dockerfile_instructions(path):
    """[(instruction, argument)] with continuation lines joined and comments dropped."""
    out, pending = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue  # comment lines inside a continued instruction are removed by Docker too
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            full = (pending + line).strip()
            pending = ""
            word, _, arg = full.partition(" ")
            out.append((word.upper(), arg.strip()))
    return out


def stages(instructions):
    """[{'from': image, 'name': alias, 'body': [(instr, arg)]}]; a FROM's ${ARG} is replaced by the
    default of the ARG declared before the first FROM (what `docker build` uses without --build-arg)."""
    result, global_args = [], {}
    for instr, arg in instructions:
        if instr == "ARG" and not result:
            name, _, default = arg.partition("=")
            global_args[name.strip()] = default.strip()
        if instr == "FROM":
            arg = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: global_args.get(m.group(1), m.group(0)), arg)
            words = arg.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append({"from": words[0], "name": name, "body": []})
        elif result:
            result[-1]["body"].append((instr, arg))
    return result


def strip_jobs(text):
    """Removes `-j N` / `--parallel N`: the job count legitimately differs between a machine and the image."""
    return re.sub(r'(?<!\S)(-j|--parallel)(=|\s*)("[^"]*"|\$\([^)]*\)|\S+)', " ", text)


def shell_commands(run_arg):
    """Splits a shell-form RUN into its && / ; separated commands, each a token list."""
    if run_arg.startswith("["):
        return [json.loads(run_arg)]
    commands = []
    for part in re.split(r"&&|;|\|\|", strip_jobs(run_arg)):
        tokens = shlex.split(part, posix=True)
        if tokens:
            commands.append(tokens)
    return commands


def normalise_cmake(tokens):
    """Drops output redirections, which do not change what is built."""
    return [t for t in tokens if not re.match(r"^(\d*>|&>)", t)]


# ---------------------------------------------------------------- Makefile parsing

def makefile_recipes(path):
    variables, targets, current = {}, {}, None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("\t"):
                if current:
                    targets[current]["recipe"].append(line.strip())
                continue
            current = None
            if not line.strip() or line.startswith("#"):
                continue
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(:=|\?=|=)\s*(.*)$", line)
            if m:
                variables[m.group(1)] = m.group(3).strip()
                continue
            m = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)\s*(.*)$", line)
            if m and m.group(1) != ".PHONY":
                current = m.group(1)
                targets[current] = {"prereqs": m.group(2).split(), "recipe": []}

    def expand(text):
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: variables.get(m.group(1), m.group(0)), text)

    for t in targets.values():
        t["recipe"] = [expand(line.lstrip("@-+")) for line in t["recipe"]]
    return targets


# ---------------------------------------------------------------- Debian package helpers

def dpkg_owner(path):
    """Package owning a file; tries the merged-/usr twin and the resolved path too."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


_installed = None


def installed_packages():
    """{package: (essential, [dependency names])} for every installed package, from one dpkg-query."""
    global _installed
    if _installed is None:
        fmt = "${Package}\t${Status}\t${Essential}\t${Depends},${Pre-Depends}\n"
        r = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], capture_output=True, text=True, check=True)
        _installed = {}
        for line in r.stdout.splitlines():
            name, status, essential, deps = line.split("\t")
            if "install ok installed" not in status:
                continue
            names = [a.strip().split(" ")[0].split(":")[0] for a in re.split(r"[,|]", deps)]
            _installed[name] = (essential == "yes", [n for n in names if n])
    return _installed


def base_image_packages():
    """What debian:bookworm-slim (a minbase debootstrap) always has: the Essential packages, apt, and
    everything they depend on (Depends and Pre-Depends, any alternative installed here)."""
    db = installed_packages()
    seen, todo = set(), [p for p, (essential, _) in db.items() if essential] + ["apt"]
    while todo:
        pkg = todo.pop()
        if pkg in seen or pkg not in db:
            continue
        seen.add(pkg)
        todo += db[pkg][1]
    return seen


def known_packages(pkgs):
    """The subset of pkgs that apt knows (its lists may be absent on a machine) or dpkg has installed."""
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", *pkgs], capture_output=True, text=True)
    known = set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))
    return {p for p in pkgs if p in known or p in installed_packages()}


def linked_libraries(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"ldd {binary} failed: {r.stderr.strip()}")
        return {}
    libs = {}
    for line in r.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            soname, _, rest = line.partition("=>")
            target = rest.strip().split(" ")[0]
            if target == "not":
                fail(f"{soname.strip()} is not found by ldd on this machine")
                continue
            libs[soname.strip()] = target
        elif line.startswith("/"):
            libs[os.path.basename(line.split(" ")[0])] = line.split(" ")[0]
    # The test suite's binary carries the sanitizer runtimes; the image's Release build does not.
    return {k: v for k, v in libs.items() if not re.match(r"lib(asan|ubsan|tsan|lsan)\.so", k)}


# ---------------------------------------------------------------- checks

def check_runtime_packages(runtime, binary):
    listed = []
    for instr, arg in runtime["body"]:
        if instr != "RUN":
            continue
        for cmd in shell_commands(arg):
            if len(cmd) >= 2 and cmd[0] in ("apt-get", "apt") and "install" in cmd:
                listed += [t for t in cmd[cmd.index("install") + 1:] if not t.startswith("-")]
                if "--no-install-recommends" not in cmd:
                    fail("the runtime stage's apt-get install lacks --no-install-recommends")
    if not listed:
        fail("the runtime stage installs no packages with apt-get install")
        return
    known = known_packages(listed)
    for pkg in listed:
        if pkg in known:
            ok(f"runtime package {pkg} exists")
        else:
            fail(f"runtime package {pkg} is unknown to apt-cache and not installed here")

    base = base_image_packages()
    # apt installs the listed packages' own dependencies too (e.g. libboost-json pulls libboost-container).
    pulled = set()
    for pkg in listed:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", pkg], capture_output=True, text=True)
        for alt in r.stdout.split(","):
            name = alt.strip().split(" ")[0].split(":")[0]
            if name:
                pulled.add(name)
    needed = {}
    for soname, path in linked_libraries(binary).items():
        if soname.startswith("linux-vdso"):
            continue
        pkg = dpkg_owner(path)
        if pkg is None:
            fail(f"{soname} ({path}) belongs to no Debian package; the image cannot install it")
            continue
        needed.setdefault(pkg, []).append(soname)
    for pkg, sonames in sorted(needed.items()):
        libs = ", ".join(sonames)
        if pkg in listed:
            ok(f"{libs} -> {pkg}, installed by the runtime stage")
        elif pkg in base:
            ok(f"{libs} -> {pkg}, part of debian:bookworm-slim")
        elif pkg in pulled:
            ok(f"{libs} -> {pkg}, a dependency of a listed package")
        else:
            fail(f"{libs} is linked but its package {pkg} is not installed by the runtime stage")
    for pkg in listed:
        if pkg not in needed:
            # Debug/sanitizer and Release builds link slightly different sets (boost_container):
            # an extra package costs little, a missing one breaks the image, so only note it.
            ok(f"note: runtime package {pkg} provides no library this binary links")


def check_build_stage(build, runtime, src):
    if build["from"] != "debian:bookworm":
        fail(f"the build stage starts FROM {build['from']}, expected debian:bookworm")
    if runtime["from"] != "debian:bookworm-slim":
        fail(f"the runtime stage starts FROM {runtime['from']}, expected debian:bookworm-slim")

    targets = makefile_recipes(os.path.join(src, "Makefile"))
    if "build" not in targets:
        fail("the Makefile has no `build` target")
        return
    make_cmake = [normalise_cmake(shlex.split(strip_jobs(l))) for l in targets["build"]["recipe"] if l.startswith("cmake ")]
    make_deps = []
    for prereq in targets["build"]["prereqs"]:
        make_deps += [shlex.split(l) for l in targets.get(prereq, {}).get("recipe", [])]
    if not make_cmake:
        fail("the Makefile's `build` target runs no cmake command")
    if not make_deps:
        fail("the Makefile's `build` target has no prerequisite recipe (expected `deps`)")

    # The build stage's commands in order, with the COPYs that precede them.
    commands, copied, deps_ran_at, first_cmake_at = [], [], None, None
    for instr, arg in build["body"]:
        if instr == "COPY":
            copied += [w for w in arg.split() if not w.startswith("--")][:-1]
        if instr != "RUN":
            continue
        for cmd in shell_commands(arg):
            commands.append(cmd)
            if any(cmd[: len(d)] == d for d in make_deps) and deps_ran_at is None:
                deps_ran_at = len(commands)
                script = next((t for t in cmd if t.endswith(".sh")), None)
                if script and not any(c in (".", "./", script) for c in copied):
                    fail(f"{script} runs before it is copied into the build stage")
            if cmd and cmd[0] == "cmake" and first_cmake_at is None:
                first_cmake_at = len(commands)
    # The same script; extra arguments (e.g. a build-only switch) are allowed.
    for d in make_deps:
        if not any(c[: len(d)] == d for c in commands):
            fail(f"the build stage does not run `{' '.join(d)}` (the Makefile's build prerequisite)")
        else:
            ok(f"the build stage runs `{' '.join(d)}`")
    # Only the build's packages: the test toolchain (Redis, PHP, HAProxy, Go) has no place in a build.
    for c in commands:
        if any(t.endswith("install-deps.sh") for t in c):
            if "--build" in c:
                ok("the build stage installs only the build list (install-deps.sh --build)")
            else:
                fail(f"the build stage runs `{' '.join(c)}` without --build: it installs the test toolchain too")
    if deps_ran_at and first_cmake_at and deps_ran_at > first_cmake_at:
        fail("the build stage runs cmake before installing the dependencies")
    docker_cmake = [normalise_cmake(c) for c in commands if c and c[0] == "cmake"]
    for c in make_cmake:
        if c in docker_cmake:
            ok(f"the build stage runs `{' '.join(c)}` as `make build` does")
        else:
            fail(f"the build stage does not run `{' '.join(c)}` (from the Makefile's build target); "
                 f"its cmake commands are {[' '.join(x) for x in docker_cmake]}")

    # The binary copied into the runtime stage must come out of that build directory.
    build_dir = None
    for c in make_cmake:
        if "-B" in c:
            build_dir = c[c.index("-B") + 1]
    workdir = "/"
    for instr, arg in build["body"]:
        if instr == "WORKDIR":
            workdir = os.path.join(workdir, arg)
    expected = os.path.normpath(os.path.join(workdir, build_dir or "build", "matomo-gateway"))
    sources = []
    for instr, arg in runtime["body"]:
        if instr == "COPY" and f"--from={build['name']}" in arg.split():
            words = [w for w in arg.split() if not w.startswith("--")]
            sources += [os.path.normpath(os.path.join(workdir, w)) for w in words[:-1]]
    if expected in sources:
        ok(f"the runtime stage copies {expected} from the build stage")
    else:
        fail(f"the runtime stage does not copy {expected} from stage {build['name']} (copies {sources})")

    check_dockerignore(src)


def check_dockerignore(src):
    path = os.path.join(src, ".dockerignore")
    if not os.path.exists(path):
        return
    patterns = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line)

    def excluded(rel):
        result = False
        parts = rel.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        for p in patterns:
            negate = p.startswith("!")
            pat = p[1:] if negate else p
            pat = pat.strip("/")
            if any(fnmatch.fnmatchcase(prefix, pat) for prefix in prefixes):
                result = not negate
        return result

    needed = ["CMakeLists.txt", "main.cpp", "Makefile", "scripts/install-deps.sh"]
    with open(os.path.join(src, "CMakeLists.txt")) as f:
        needed += re.findall(r"^\s*add_subdirectory\(\s*([^\s)]+)", f.read(), re.M)
    for rel in needed:
        if rel == "tests":
            continue  # only with MGW_BUILD_TESTS=ON, which the image build turns off
        if excluded(rel):
            fail(f".dockerignore excludes {rel}, which the image build needs")
    ok(f".dockerignore keeps {', '.join(n for n in needed if n != 'tests')}")


def check_runtime_user_and_entrypoint(runtime, binary):
    users = [arg for instr, arg in runtime["body"] if instr == "USER"]
    if not users:
        fail("the runtime stage sets no USER: the gateway would run as root")
    else:
        user = users[-1].split(":")[0]
        group = users[-1].split(":")[1] if ":" in users[-1] else None
        if not user.isdigit():
            fail(f"USER {users[-1]}: use a numeric uid so Kubernetes' runAsNonRoot can verify it")
        elif int(user) == 0 or (group is not None and group.isdigit() and int(group) == 0):
            fail(f"USER {users[-1]} is root")
        else:
            ok(f"the runtime user is {users[-1]} (non-root)")

    entrypoints = [arg for instr, arg in runtime["body"] if instr == "ENTRYPOINT"]
    copied_to = [arg.split()[-1] for instr, arg in runtime["body"] if instr == "COPY" and "--from=" in arg]
    if not entrypoints:
        fail("the runtime stage has no ENTRYPOINT")
    else:
        try:
            ep = json.loads(entrypoints[-1])
            if not isinstance(ep, list) or not ep or not all(isinstance(x, str) for x in ep):
                raise ValueError
            ok(f"ENTRYPOINT is exec form: {ep}")
            if ep[0] not in copied_to:
                fail(f"ENTRYPOINT runs {ep[0]}, but the binary is copied to {copied_to}")
        except ValueError:
            fail(f"ENTRYPOINT {entrypoints[-1]} is not exec form (a JSON array of strings); "
                 "in shell form SIGTERM reaches /bin/sh, not the gateway, and the drain never runs")
    for instr, arg in runtime["body"]:
        if instr == "CMD" and not arg.startswith("["):
            fail(f"CMD {arg} is shell form")

    exposed = set()
    for instr, arg in runtime["body"]:
        if instr == "EXPOSE":
            exposed |= {w.split("/")[0] for w in arg.split()}
    env = {}
    for instr, arg in runtime["body"]:
        if instr == "ENV":
            for token in shlex.split(arg):
                if "=" in token:
                    k, _, v = token.partition("=")
                    env[k] = v
    for key, port in (("MATOMO_GATEWAY_LISTEN", "8080"), ("MATOMO_GATEWAY_ADMIN_LISTEN", "9090")):
        value = env.get(key)
        if value is None:
            fail(f"ENV {key} is not set: the gateway would listen on 127.0.0.1 inside the container")
        elif not value.startswith("0.0.0.0:"):
            fail(f"ENV {key}={value} does not listen on 0.0.0.0")
        elif value.rsplit(":", 1)[1] not in exposed:
            fail(f"ENV {key}={value}: port not in EXPOSE {sorted(exposed)}")
        if port not in exposed:
            fail(f"port {port} is not exposed")
    # The binary itself must accept the image's environment.
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("MATOMO_GATEWAY_")}
    run_env.update(env)
    r = subprocess.run([binary, "--check-config"], env=run_env, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"the binary rejects the image's ENV: {r.stderr.strip()}")
    else:
        for key, value in env.items():
            if key.startswith("MATOMO_GATEWAY_"):
                config_key = key[len("MATOMO_GATEWAY_"):].lower()
                if f'{config_key} = "{value}"' not in r.stdout:
                    fail(f"ENV {key}={value} is not reflected in --check-config output")
        ok("the binary accepts the image's ENV (--check-config)")


def main():
    src, binary = sys.argv[1], sys.argv[2]
    st = stages(dockerfile_instructions(os.path.join(src, "Dockerfile")))
    if len(st) < 2:
        fail("the Dockerfile is not multi-stage")
        return 1
    build, runtime = st[0], st[-1]
    if not build["name"]:
        fail("the build stage has no name (FROM ... AS build)")
    check_runtime_packages(runtime, binary)
    check_build_stage(build, runtime, src)
    check_runtime_user_and_entrypoint(runtime, binary)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
