"""LW4xx security: the hits and the traps of each rule, and the `runtime_user` helper the
non-root fix builds on."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.context.project import BuildContext
from layerwise.fixes import fix_dockerfile
from layerwise.rules import Finding, LintContext, get_rule, lint
from layerwise.rules.security import is_root_user, runtime_user, secret_name


def findings(text: str, rule: str, *, context: object | None = None) -> list[Finding]:
    cls = get_rule(rule)
    assert cls is not None
    df = parse_dockerfile(text, "Dockerfile")
    return lint(df, rules=[cls()], build_context=context).findings


def hits(text: str, rule: str) -> int:
    return len(findings(text, rule))


# -- LW401 root user and runtime_user --------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "root"),
    [("root", True), ("0", True), ("root:root", True), ("0:0", True), ("0:app", True)],
)
def test_is_root_user(user: str, root: bool) -> None:
    assert is_root_user(user) is root
    assert not is_root_user("app") and not is_root_user("1000:0") and not is_root_user("rootless")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # (line, covers) of each finding
        ("FROM python:3.11-slim\nCMD python\n", [(1, ())]),
        ("FROM python:3.11-slim\nUSER root\n", [(2, ("DL3002",))]),
        ("FROM python:3.11-slim\nUSER 0:0\n", [(2, ("DL3002",))]),
        ("FROM python:3.11-slim\nUSER root\nRUN x\nUSER app\n", []),
        ("FROM python:3.11-slim\nUSER app\nRUN x\nUSER root\n", [(4, ("DL3002",))]),
        # a USER inherited from the stage the final one is built FROM
        ("FROM python:3.11 AS base\nUSER app\nFROM base\nCMD x\n", []),
        ("FROM python:3.11 AS base\nUSER root\nFROM base\nCMD x\n", [(2, ("DL3002",))]),
        # hadolint reports any stage whose last USER is root
        (
            "FROM debian AS base\nUSER root\nRUN x\nFROM scratch\nUSER foo\nRUN y\n",
            [(2, ("DL3002",))],
        ),
        # a builder's user does not matter when the final stage sets its own
        ("FROM python:3.11 AS build\nRUN x\nFROM python:3.11-slim\nUSER 10001\n", []),
        # the final stage without USER is reported once, at its FROM
        ("FROM python:3.11 AS build\nUSER app\nFROM python:3.11-slim\nCMD x\n", [(3, ())]),
        # base images whose tag says they run as non-root
        ("FROM gcr.io/distroless/python3-debian12:nonroot\nCMD x\n", []),
        ("FROM cgr.dev/chainguard/python:latest-dev\nCMD x\n", [(1, ())]),
        # a USER from an ARG
        ("FROM python:3.11-slim\nARG RUN_AS=root\nUSER ${RUN_AS}\n", [(3, ("DL3002",))]),
        ("FROM python:3.11-slim\nARG RUN_AS=app\nUSER ${RUN_AS}\n", []),
    ],
)
def test_root_user(text: str, expected: list[tuple[int, tuple[str, ...]]]) -> None:
    got = findings(text, "LW401")
    assert [(f.line, f.covers) for f in got] == expected


def test_root_user_with_target() -> None:
    text = "FROM python:3.11 AS dev\nCMD x\nFROM python:3.11-slim AS prod\nUSER 10001\n"
    df = parse_dockerfile(text, "Dockerfile")
    rule = get_rule("LW401")
    assert rule is not None
    assert lint(df, rules=[rule()]).findings == []
    dev = lint(df, rules=[rule()], model=df.model(target="dev")).findings
    assert [f.line for f in dev] == [1]


def test_runtime_user_describes_the_final_stage() -> None:
    text = (
        "FROM python:3.11 AS base\nRUN useradd --system --uid 10001 app\n"
        "FROM base\nWORKDIR /app\n"
        "RUN mkdir -p /shared-data/uploads data && chown -R app:app /shared-data\n"
        "USER app\nCMD python\n"
    )
    info = runtime_user(LintContext(parse_dockerfile(text, "Dockerfile")))
    assert info is not None
    assert info.stage.index == 1 and info.user == "app" and not info.runs_as_root
    assert info.user_step is not None and info.user_step.line == 6 and not info.inherited
    assert info.workdir == "/app"
    assert [(u.kind, u.name, u.uid, u.system) for u in info.created_users] == [
        ("useradd", "app", "10001", True)
    ]
    assert [(w.path, w.how, w.owner) for w in info.written_paths] == [
        ("/shared-data/uploads", "mkdir", None),
        ("/app/data", "mkdir", None),
        ("/shared-data", "chown", "app:app"),
    ]


def test_runtime_user_inherited_and_unset() -> None:
    ctx = LintContext(parse_dockerfile("FROM a:1 AS b\nUSER 5\nFROM b\n", "Dockerfile"))
    info = runtime_user(ctx)
    assert info is not None and info.user == "5" and info.inherited
    info = runtime_user(LintContext(parse_dockerfile("FROM a:1\nCMD x\n", "Dockerfile")))
    assert info is not None and info.user is None and info.runs_as_root


# -- LW402 secrets in ARG and ENV --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "hadolint", "docker"),
    [
        ("GITHUB_TOKEN", "token", True, True),
        ("AWS_SECRET_ACCESS_KEY", "access key", True, True),
        ("DB_PASSWORD", "password", True, True),
        ("PASSWD", "password", False, True),
        ("api_key", "API key", True, True),
        ("APIKEY", "API key", False, True),
        ("MY_SECRET_VALUE", "secret", True, True),
        ("AUTH", "credentials", False, True),
        ("SSH_PRIVATE", "private key", True, False),
        ("NPM_TOKEN", "token", True, True),
        ("apiToken", "token", True, False),
        ("DB_PASSWORDS", "password", True, False),
        ("MYSQLPASSWORD", "password", True, False),
        ("OKTA_OAUTH2_CLIENTID", "credentials", True, False),  # hadolint's well-known names
    ],
)
def test_secret_names(name: str, kind: str, hadolint: bool, docker: bool) -> None:
    found = secret_name(name)
    assert found is not None
    assert (found.kind, found.hadolint, found.docker) == (kind, hadolint, docker)


@pytest.mark.parametrize(
    "name",
    [
        "USERNAME",  # hadolint reports it: a user name is not a secret
        "DOCKER_USERNAME",
        "CI_DEPLOY_USER",
        "TRAVIS_OS_NAME",
        "SECRET_KEY_FILE",  # where the secret is
        "GOOGLE_APPLICATION_CREDENTIALS",  # a path by convention
        "AUTH_SERVER_URL",
        "PUBLIC_KEY",
        "GPG_KEY",  # a key id used to verify downloads (official images)
        "PYTHON_VERSION",
        "KEYBOARD",  # `key` must be a whole word for Docker
        "MONKEY_PATCH",
        "TOKENIZER_MODEL",
        "PATH",
    ],
)
def test_not_secret_names(name: str) -> None:
    assert secret_name(name) is None


def test_secret_in_arg_env_findings() -> None:
    text = (
        "ARG GLOBAL_TOKEN\nFROM python:3.11-slim\nARG NPM_TOKEN=abc PLAIN=1\n"
        "ENV APP_ENV=prod \\\n    DATABASE_PASSWORD=hunter2\nENV API_KEY secret-value\n"
    )
    got = findings(text, "LW402")
    assert [(f.line, f.covers) for f in got] == [
        (1, ("DL3064", "SecretsUsedInArgOrEnv")),
        (3, ("DL3064", "SecretsUsedInArgOrEnv")),
        (5, ("DL3064", "SecretsUsedInArgOrEnv")),
        (6, ("DL3064", "SecretsUsedInArgOrEnv")),
    ]
    text_of_findings = " ".join(f.message for f in got)
    # names and kinds, never values
    for value in ("abc", "hunter2", "secret-value"):
        assert value not in text_of_findings
    assert "NPM_TOKEN" in got[1].message and "--mount=type=secret" in got[1].message
    assert "run time" in got[2].message  # ENV: give it to the container at run time


def test_secret_in_arg_env_docker_example(shared: Path) -> None:
    import json

    checks = json.loads((shared / "peer-tests/build-checks/checks.json").read_text())
    (check,) = [c for c in checks if c["name"] == "SecretsUsedInArgOrEnv"]
    for bad in check["bad"]:
        text = bad if bad.lstrip().upper().startswith("FROM") else "FROM scratch\n" + bad
        assert any("SecretsUsedInArgOrEnv" in f.covers for f in findings(text, "LW402"))
    for good in check["good"]:
        text = good if good.lstrip().upper().startswith("FROM") else "FROM scratch\n" + good
        assert findings(text, "LW402") == []


# -- LW403 secret files copied -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("copy", "n"),
    [
        ("COPY .env .", 1),
        ("COPY .env.production ./", 1),
        ("COPY .env.example .", 0),
        ("COPY config/id_rsa /root/.ssh/id_rsa", 1),
        ("COPY id_rsa.pub /root/.ssh/", 0),
        ("ADD certs/server.key /etc/ssl/", 1),
        ("COPY .npmrc package.json ./", 1),
        ("COPY app.py requirements.txt ./", 0),
        ("COPY --from=build /app/.env .", 0),  # from a stage: its own rule would say so there
        ("RUN --mount=type=bind,source=.env,target=/app/.env cat /app/.env", 0),  # not a layer
        ("COPY . .", 0),  # without the context, only named sources are known
    ],
)
def test_secret_file_copied_by_name(copy: str, n: int) -> None:
    text = f"FROM python:3.11 AS build\nRUN true\nFROM python:3.11-slim\nWORKDIR /app\n{copy}\n"
    assert hits(text, "LW403") == n


def test_secret_file_copied_severity_by_stage() -> None:
    text = "FROM python:3.11 AS build\nCOPY .env .\nFROM python:3.11-slim\nCOPY .env .\n"
    got = findings(text, "LW403")
    assert [(f.line, str(f.severity)) for f in got] == [(2, "warning"), (4, "error")]
    assert "stage 'build'" in got[0].message and "the image" in got[1].message


def test_secret_file_copied_with_context(tmp_path: Path) -> None:
    files = {
        "app.py": "print('hi')\n",
        ".env": "DATABASE_PASSWORD=hunter2\n",
        "deploy/key.json": '{"type": "service_account", "private_key": "x"}\n',
        "ignored/.env": "X=1\n",
        ".dockerignore": "ignored/\n",
    }
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCOPY .env /etc/app.env\n"
    (tmp_path / "Dockerfile").write_text(text)
    bc = BuildContext.load(tmp_path, tmp_path / "Dockerfile")
    got = findings(text, "LW403", context=bc)
    messages = sorted((f.line, f.message.split(" into")[0]) for f in got)
    assert messages == [
        (3, "COPY puts .env (dotenv)"),
        (3, "COPY puts deploy/key.json (gcp-service-account)"),
        (4, "COPY puts .env (dotenv)"),
    ]
    assert all("hunter2" not in f.message for f in got)


# -- LW404 curl | sh, LW405 sudo, LW406 chmod ------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "n"),
    [
        ("RUN curl -fsSL https://x/install.sh | sh", 1),
        ("RUN wget -qO- https://x/install.sh | bash -s -- -y", 1),
        ("RUN curl -sSL https://x | sudo bash", 1),
        ('RUN sh -c "$(curl -fsSL https://x/install.sh)"', 1),
        ("RUN curl -sS https://getcomposer.org/installer | php", 1),
        ("RUN curl -fsSL https://x/key.gpg | gpg --dearmor -o /k.gpg", 0),
        ("RUN curl -fsSL https://x/a.tgz | tar -xz -C /opt", 0),
        ("RUN curl -fsSLo /tmp/i.sh https://x/i.sh && sha256sum -c sums && sh /tmp/i.sh", 0),
    ],
)
def test_curl_pipe_shell(run: str, n: int) -> None:
    assert hits(f"FROM debian:12\n{run}\n", "LW404") == n


def test_curl_pipe_shell_span_covers_the_pipe() -> None:
    (f,) = findings("FROM debian:12\nRUN set -e; curl -fsSL https://x | sh\n", "LW404")
    assert (f.line, f.column, f.end_column) == (2, 13, 38)


@pytest.mark.parametrize(
    ("run", "n"),
    [
        ("RUN sudo apt-get update", 1),
        ("RUN apt-get update && sudo apt-get install -y curl", 1),
        ("RUN sudo -u app make", 1),
        ("RUN apt-get install -y sudo", 0),
        ("RUN echo 'app ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers", 0),
        ('RUN ["sudo", "ls"]', 1),
    ],
)
def test_sudo(run: str, n: int) -> None:
    got = findings(f"FROM debian:12\n{run}\n", "LW405")
    assert len(got) == n
    assert all(f.covers == ("DL3004",) for f in got)


@pytest.mark.parametrize(
    ("run", "n"),
    [
        ("RUN chmod 777 /data", 1),
        ("RUN chmod -R 0777 /data", 1),
        ("RUN chmod a+rwx /data", 1),
        ("RUN chmod o+w /data", 1),
        ("RUN chmod 666 /etc/app.conf", 1),
        ("RUN chmod 755 /app/run.sh", 0),
        ("RUN chmod +x /app/run.sh", 0),
        ("RUN chmod 775 /data", 0),
        ("RUN chmod 1777 /tmp/x", 0),  # sticky: a shared scratch directory, by design
        ("RUN chmod a+rwxt /tmp/x", 0),
        ("RUN chmod 4777 /data", 1),
    ],
)
def test_world_writable(run: str, n: int) -> None:
    assert hits(f"FROM debian:12\n{run}\n", "LW406") == n


# -- LW407 ADD --checksum --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("add", "n"),
    [
        ("ADD https://example.com/tool.tgz /opt/", 1),
        ("ADD http://example.com/a /a", 1),
        ("ADD --checksum=sha256:" + "0" * 64 + " https://example.com/tool.tgz /opt/", 0),
        ("ADD https://github.com/moby/buildkit.git#v0.13.0 /src", 0),  # git: pinned by ref
        ("ADD app.tar.gz /opt/", 0),
        ("COPY https.txt /x", 0),
        ("ONBUILD ADD https://example.com/a /a", 1),
    ],
)
def test_remote_add_checksum(add: str, n: int) -> None:
    assert hits(f"FROM debian:12\n{add}\n", "LW407") == n


def test_remote_add_checksum_hides_credentials() -> None:
    (f,) = findings("FROM debian:12\nADD https://user:tok@example.com/a?sig=s3cr3t /a\n", "LW407")
    assert "tok" not in f.message and "s3cr3t" not in f.message
    assert "https://example.com/a" in f.message


# -- LW408 numeric USER, LW409 useradd -l --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("USER app", 1),
        ("USER app:app", 1),
        ("USER 10001", 0),
        ("USER 10001:10001", 0),
        ("USER 10001:app", 0),
        ("USER root", 1),  # hadolint's DL3066 too
        ("ARG UID=1000\nUSER ${UID}", 0),
        ("ARG NAME\nUSER $NAME", 0),
        ("ENV NAME=app\nUSER $NAME", 1),
        ("ENV ID=1000\nUSER $ID", 0),
    ],
)
def test_numeric_user(text: str, n: int) -> None:
    assert hits(f"FROM debian:12\n{text}\n", "LW408") == n


def test_numeric_user_suggests_the_uid_the_dockerfile_gives() -> None:
    (f,) = findings("FROM debian:12\nRUN useradd -u 1234 app\nUSER app\n", "LW408")
    assert "USER 1234" in f.message
    (g,) = findings("FROM debian:12\nRUN useradd app\nUSER app\n", "LW408")
    assert "10001" in g.message


@pytest.mark.parametrize(
    ("run", "n"),
    [
        ("RUN useradd luser", 0),
        ("RUN useradd -u 12345 luser", 0),
        ("RUN useradd -l -u 123456 luser", 0),
        ("RUN useradd --no-log-init -u 123456 luser", 0),
        ("RUN useradd -lm -u 123456 luser", 0),
        ("RUN useradd -u 123456 luser", 1),
        ("RUN useradd --uid=123456 luser", 1),
        ("ARG UID=10000\nRUN useradd -u ${UID} luser", 0),  # known and small
        ("ARG UID\nRUN useradd -u ${UID} luser", 1),  # unknown: may be large
        ("RUN adduser -u 123456 luser", 0),  # busybox/Debian adduser: no lastlog option
    ],
)
def test_useradd_log_init(run: str, n: int) -> None:
    got = findings(f"FROM debian:12\n{run}\n", "LW409")
    assert len(got) == n
    assert all(f.covers == ("DL3046",) for f in got)


def test_useradd_log_init_fix() -> None:
    text = "FROM debian:12\nRUN groupadd -g 123456 app && useradd -u 123456 -g app app\n"
    result = fix_dockerfile(parse_dockerfile(text, "Dockerfile"), select=["LW409"])
    assert result.text == (
        "FROM debian:12\nRUN groupadd -g 123456 app && useradd -l -u 123456 -g app app\n"
    )


# -- LW410 COPY --from / /, LW411 pointless commands -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("FROM a:1 AS x\nFROM b:1\nCOPY --from=x / /\n", 1),
        ("FROM b:1\nCOPY --from=tonistiigi/xx:1.4 / /\n", 1),
        ("FROM a:1\nFROM scratch\nCOPY --from=0 / /\n", 1),
        ('FROM a:1 AS x\nFROM b:1\nCOPY --from=x ["/", "/"]\n', 1),
        ("FROM a:1 AS x\nFROM b:1\nCOPY --from=x /opt/venv /opt/venv\n", 0),
        ("FROM a:1 AS x\nFROM b:1\nCOPY --from=x / /rootfs/\n", 0),
        ("FROM b:1\nCOPY / /\n", 0),  # the context, not another stage
        # a stage built FROM scratch only holds the files put there: exporting them is fine
        ("FROM a:1 AS build\nFROM scratch AS out\nCOPY --from=build /bin/app /\n"
         "FROM b:1\nCOPY --from=out / /\n", 0),
    ],
)  # fmt: skip
def test_copy_whole_filesystem(text: str, n: int) -> None:
    got = findings(text, "LW410")
    assert len(got) == n
    assert all(f.covers == ("DL3067",) for f in got)


@pytest.mark.parametrize(
    ("run", "names"),
    [
        ("RUN top", ["top"]),
        ("RUN service nginx start && ps aux", ["service", "ps"]),
        ("RUN apt-get install -y ssh vim", []),
        ("RUN echo kill", []),
        ("RUN sh -c 'mount -a'", ["mount"]),
        ("RUN systemctl enable nginx", []),
    ],
)
def test_pointless_command(run: str, names: list[str]) -> None:
    got = findings(f"FROM debian:12\n{run}\n", "LW411")
    assert [f.message.split("`")[1] for f in got] == names
    assert all(f.covers == ("DL3001",) for f in got)
