"""The semantic model: what BuildKit will do with a Dockerfile, built once and read by everything.

From the syntax tree this computes, as BuildKit's Dockerfile frontend does:

* stages (index, name, base image reference or base stage, platform) with their steps;
* global ARGs (before the first FROM), usable in FROM lines, with build-arg overrides and the
  automatic platform ARGs;
* per step, the ARG/ENV scope and the instruction's arguments after variable expansion (only for
  the instructions BuildKit expands: not RUN/CMD/ENTRYPOINT, which the shell expands);
* what each step reads: context paths (COPY/ADD/`RUN --mount=type=bind`), other stages
  (`FROM <stage>`, `COPY --from`, `--mount=from=`), other images, remote URLs, heredocs;
* the stage graph and, for a target, the stages BuildKit actually builds (it skips stages the
  target does not reach);
* the errors BuildKit would report when it turns the syntax into instructions (unknown flags,
  wrong argument counts, bad mounts, ...), with their locations.

The environment a base image brings (its ENV, ONBUILD triggers) is unknown without pulling it;
variables that come from there are reported as unmatched rather than guessed.
"""

from __future__ import annotations

import csv
import platform as _platform
import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from layerwise.dockerfile.lex import Lexer, LexError
from layerwise.dockerfile.parser import heredoc_marker
from layerwise.dockerfile.reference import ImageRef, ReferenceError, parse_reference
from layerwise.dockerfile.syntax import Dockerfile, Instruction, Span
from layerwise.errors import Location

SCRATCH = "scratch"
DEFAULT_SHELL = ("/bin/sh", "-c")
_STAGE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")

# Flags each instruction accepts (BuildKit's BFlags): name -> "bool" | "string" | "strings".
FLAGS: dict[str, dict[str, str]] = {
    "ADD": {
        "chown": "string",
        "chmod": "string",
        "link": "bool",
        "keep-git-dir": "bool",
        "checksum": "string",
        "unpack": "bool",
        "exclude": "strings",
    },
    "COPY": {
        "chown": "string",
        "from": "string",
        "chmod": "string",
        "link": "bool",
        "exclude": "strings",
        "parents": "bool",
    },
    "FROM": {"platform": "string"},
    "RUN": {"mount": "strings", "network": "string", "security": "string", "device": "strings"},
    "HEALTHCHECK": {
        "interval": "string",
        "timeout": "string",
        "start-period": "string",
        "start-interval": "string",
        "retries": "string",
    },
}
KNOWN_INSTRUCTIONS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)
# Instructions whose words BuildKit expands with the ARG/ENV scope.
EXPANDED = frozenset(
    ["ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"]
)
# Instructions that add a filesystem layer (WORKDIR only when it is not `/`).
LAYER_INSTRUCTIONS = frozenset(("RUN", "COPY", "ADD", "WORKDIR"))
_MOUNT_TYPES = frozenset(("bind", "cache", "tmpfs", "secret", "ssh"))
_MOUNT_KEYS = frozenset(
    [
        "type",
        "from",
        "source",
        "src",
        "target",
        "dst",
        "destination",
        "readonly",
        "ro",
        "readwrite",
        "rw",
        "required",
        "id",
        "sharing",
        "size",
        "mode",
        "uid",
        "gid",
        "env",
    ]
)

_Expander = Callable[[str], str]
ReadKind = Literal["context", "stage", "image", "url", "git", "heredoc"]


@dataclass(frozen=True)
class ModelError:
    """Something BuildKit refuses when it turns the syntax into instructions."""

    message: str
    instruction: Instruction | None
    span: Span | None = None
    path: str | None = None

    @property
    def location(self) -> Location:
        if self.instruction is None:
            return Location(self.path, 1, 1)
        df = self.instruction.dockerfile
        pos = df.position((self.span or self.instruction.span).start)
        return Location(df.path, pos.line, pos.column)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class Mount:
    """A `RUN --mount=...` after variable expansion."""

    type: str
    target: str | None
    source: str | None
    from_: str | None
    id: str | None
    sharing: str | None
    readonly: bool
    env: str | None
    fields: Mapping[str, str]


@dataclass(frozen=True)
class Read:
    """One input of a step: context paths, another stage, an image, a URL or a heredoc."""

    kind: ReadKind
    sources: list[str]
    excludes: list[str] = field(default_factory=list)
    parents: bool = False
    stage: int | None = None
    image: str | None = None
    via: Literal["from", "copy", "add", "mount"] = "copy"
    mount_target: str | None = None


@dataclass
class Step:
    """One instruction inside a stage, with the scope it runs in."""

    instruction: Instruction
    stage_index: int
    env: dict[str, str]  # ENV and ARG values visible to the step (base image ENV not included)
    args: dict[str, str | None]  # ARGs declared in scope, with their value (None: no value)
    workdir: str
    user: str | None
    shell: tuple[str, ...]
    expanded: tuple[str, ...]  # arguments after expansion (BuildKit-expanded instructions only)
    reads: list[Read]
    mounts: list[Mount]
    unmatched: set[str]  # variables referenced but not defined in the Dockerfile

    @property
    def name(self) -> str:
        return self.instruction.name

    @property
    def produces_layer(self) -> bool:
        if self.name == "WORKDIR":
            return self.workdir != "/"
        return self.name in LAYER_INSTRUCTIONS

    @property
    def line(self) -> int:
        return self.instruction.start_line


@dataclass
class Stage:
    index: int
    name: str | None  # lower case, as BuildKit keeps it
    from_instruction: Instruction
    base_name: str  # after expansion with the global ARGs
    base_stage: int | None  # `FROM <earlier stage>`
    image: ImageRef | None  # None for scratch, a stage base, or an invalid reference
    platform: str | None
    steps: list[Step] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    workdir: str = "/"
    user: str | None = None
    shell: tuple[str, ...] = DEFAULT_SHELL
    deps: dict[int, Instruction] = field(default_factory=dict)  # stage index -> first reader
    external_images: list[tuple[str, Instruction]] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        """The name BuildKit shows in progress output (`builder`, `stage-1`)."""
        return self.name or f"stage-{self.index}"

    @property
    def is_scratch(self) -> bool:
        return self.base_name == SCRATCH and self.base_stage is None

    @property
    def instructions(self) -> list[Instruction]:
        return [s.instruction for s in self.steps]

    def last(self, name: str) -> Step | None:
        """The last step with this instruction name (`CMD`, `USER`, ...) in this stage."""
        for step in reversed(self.steps):
            if step.name == name:
                return step
        return None

    def __repr__(self) -> str:
        return f"<Stage {self.index} {self.name or ''} FROM {self.base_name}>"


@dataclass
class Model:
    dockerfile: Dockerfile
    stages: list[Stage]
    global_args: dict[str, str | None]  # ARGs declared before the first FROM (after overrides)
    meta_args: list[Instruction]
    target: Stage | None
    built: list[int]  # indices of the stages BuildKit builds for the target, in file order
    errors: list[ModelError]
    build_args: dict[str, str]

    @property
    def built_stages(self) -> list[Stage]:
        return [self.stages[i] for i in self.built]

    @property
    def final(self) -> Stage | None:
        """The stage the image comes from (the target)."""
        return self.target

    def is_built(self, stage: Stage | int) -> bool:
        index = stage if isinstance(stage, int) else stage.index
        return index in self.built

    def stage_named(self, name: str) -> Stage | None:
        lowered = name.lower()
        for st in self.stages:
            if st.name == lowered:
                return st
        return None

    def steps(self, *, built_only: bool = False) -> Iterator[Step]:
        for st in self.built_stages if built_only else self.stages:
            yield from st.steps

    def step_for(self, instruction: Instruction) -> Step | None:
        for step in self.steps():
            if step.instruction is instruction:
                return step
        return None

    def stage_of(self, instruction: Instruction) -> Stage | None:
        for st in self.stages:
            if st.from_instruction is instruction or any(
                s.instruction is instruction for s in st.steps
            ):
                return st
        return None

    def edges(self) -> list[tuple[int, int, Instruction]]:
        """(from stage, to stage, instruction) for every stage-to-stage dependency."""
        out = []
        for st in self.stages:
            if st.base_stage is not None:
                out.append((st.base_stage, st.index, st.from_instruction))
            for dep, ins in st.deps.items():
                out.append((dep, st.index, ins))
        return out


def default_platform() -> str:
    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"linux/{arch}"


def platform_args(target_platform: str | None, target_stage: str) -> dict[str, str]:
    """The automatic platform ARGs BuildKit defines in the global scope."""
    build = default_platform()
    target = target_platform or build

    def parts(p: str) -> tuple[str, str, str]:
        bits = p.split("/")
        return bits[0], bits[1] if len(bits) > 1 else "", bits[2] if len(bits) > 2 else ""

    bos, barch, bvar = parts(build)
    tos, tarch, tvar = parts(target)
    return {
        "BUILDPLATFORM": build,
        "BUILDOS": bos,
        "BUILDOSVERSION": "",
        "BUILDARCH": barch,
        "BUILDVARIANT": bvar,
        "TARGETPLATFORM": target,
        "TARGETOS": tos,
        "TARGETOSVERSION": "",
        "TARGETARCH": tarch,
        "TARGETVARIANT": tvar,
        "TARGETSTAGE": target_stage or "default",
    }


def build_model(
    df: Dockerfile,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
) -> Model:
    return _Builder(df, dict(build_args or {}), target, platform).build()


class _Builder:
    def __init__(
        self, df: Dockerfile, build_args: dict[str, str], target: str | None, plat: str | None
    ) -> None:
        self.df = df
        self.build_args = build_args
        self.target_name = target
        self.platform = plat
        self.lexer = Lexer(df.escape)
        self.errors: list[ModelError] = []

    def error(self, message: str, ins: Instruction | None, span: Span | None = None) -> None:
        self.errors.append(ModelError(message, ins, span, self.df.path))

    def expand(self, word: str, env: Mapping[str, str], ins: Instruction) -> tuple[str, set[str]]:
        try:
            res = self.lexer.process_word(word, env)
        except LexError as exc:
            self.error(str(exc), ins)
            return word, set()
        return res.result, res.unmatched

    # -- the whole file -------------------------------------------------------------------------

    def build(self) -> Model:
        df = self.df
        meta: list[Instruction] = []
        groups: list[tuple[Instruction, list[Instruction]]] = []
        for ins in df.instructions:
            self.validate(ins)
            if ins.name == "FROM":
                groups.append((ins, []))
            elif not groups:
                if ins.name == "ARG":
                    meta.append(ins)
                elif ins.name in KNOWN_INSTRUCTIONS:
                    self.error("no build stage in current context", ins)
            else:
                groups[-1][1].append(ins)
        if not groups:
            self.error("dockerfile contains no stages to build", None)

        last_name = _stage_name(groups[-1][0]) if groups else None
        target_stage_name = self.target_name or last_name or ""
        global_env: dict[str, str] = platform_args(self.platform, target_stage_name)
        for key in list(global_env):
            if key in self.build_args:
                global_env[key] = self.build_args[key]
        global_args: dict[str, str | None] = {}
        for ins in meta:
            for key, value in _arg_decls(ins):
                if key in self.build_args:
                    value = self.build_args[key]
                elif value is not None:
                    value, _ = self.expand(value, global_env, ins)
                global_args[key] = value
                if value is not None:
                    global_env[key] = value

        stages: list[Stage] = []
        names: dict[str, int] = {}
        for index, (from_ins, _) in enumerate(groups):
            stage = self.make_stage(index, from_ins, global_env, names)
            stages.append(stage)
            if stage.name:
                names[stage.name] = index
        for stage, (_, body) in zip(stages, groups, strict=True):
            self.fill_stage(stage, body, stages, names, global_env)

        target_stage: Stage | None = stages[-1] if stages else None
        if self.target_name:
            found = names.get(self.target_name.lower())
            if found is None:
                self.error(f"target stage {self.target_name!r} could not be found", None)
            else:
                target_stage = stages[found]
        built = sorted(_reachable(stages, target_stage.index)) if target_stage else []
        return Model(
            df, stages, global_args, meta, target_stage, built, self.errors, self.build_args
        )

    def make_stage(
        self, index: int, ins: Instruction, global_env: dict[str, str], names: dict[str, int]
    ) -> Stage:
        args = list(ins.arguments)
        name = _stage_name(ins)
        raw_base = args[0] if args else ""
        base, _ = self.expand(raw_base, global_env, ins)
        if args and not base:
            self.error(f"base name ({raw_base}) should not be blank", ins)
        plat = None
        flag = ins.flag("platform")
        if flag is not None and flag.value:
            plat, _ = self.expand(flag.value, global_env, ins)
        base_stage = names.get(base)
        image = None
        if base_stage is None and base and base != SCRATCH:
            try:
                image = parse_reference(base)
            except ReferenceError as exc:
                self.error(f"failed to parse base image {base!r}: {exc}", ins, ins.words[0].span)
        return Stage(index, name, ins, base, base_stage, image, plat)

    # -- one stage ------------------------------------------------------------------------------

    def fill_stage(
        self,
        stage: Stage,
        body: list[Instruction],
        stages: list[Stage],
        names: dict[str, int],
        global_env: dict[str, str],
    ) -> None:
        env: dict[str, str] = {}
        args: dict[str, str | None] = {}
        workdir: str = "/"
        user: str | None = None
        shell: tuple[str, ...] = DEFAULT_SHELL
        if stage.base_stage is not None:
            # BuildKit starts the stage from the base stage's state: its ENV, its ARG values and
            # its working directory carry over.
            base = stages[stage.base_stage]
            env, args = dict(base.env), dict(base.args)
            workdir, user, shell = base.workdir, base.user, base.shell
        for ins in body:
            name = ins.name
            reads: list[Read] = []
            mounts: list[Mount] = []
            unmatched: set[str] = set()
            expanded: tuple[str, ...] = tuple(ins.arguments)

            def exp(
                word: str,
                _ins: Instruction = ins,
                _env: dict[str, str] = env,
                _unmatched: set[str] = unmatched,
            ) -> str:
                value, missing = self.expand(word, _env, _ins)
                _unmatched.update(missing)
                return value

            if name == "ARG":
                for key, value in _arg_decls(ins):
                    # BuildKit: a build-arg wins; a bare `ARG X` takes the global value (meta
                    # ARGs and platform ARGs); a default is expanded in the stage's scope.
                    if key in self.build_args:
                        value = self.build_args[key]
                    elif value is None:
                        value = global_env.get(key)
                    else:
                        value = exp(value)
                    args[key] = value
                    if value is not None:
                        env[key] = value
                expanded = tuple(f"{k}={v}" if v is not None else k for k, v in args.items())
            elif name == "ENV":
                # BuildKit expands every pair with the environment as it was before this ENV
                # (`ENV A=1 B=$A` leaves B empty when A was unset), then sets them in order.
                pairs = [(exp(kv.key), exp(kv.value)) for kv in ins.pairs]
                env.update(pairs)
                expanded = tuple(f"{k}={v}" for k, v in pairs)
            elif name in ("LABEL", "EXPOSE", "VOLUME", "STOPSIGNAL", "USER", "WORKDIR"):
                if name == "LABEL":
                    expanded = tuple(f"{exp(kv.key)}={exp(kv.value)}" for kv in ins.pairs)
                else:
                    expanded = tuple(exp(a) for a in ins.arguments)
                if name == "WORKDIR" and expanded:
                    workdir = posixpath.normpath(posixpath.join(workdir, expanded[0]))
                    if workdir.startswith("//"):
                        workdir = "/" + workdir.lstrip("/")
                elif name == "USER" and expanded:
                    user = expanded[0]
            elif name == "SHELL" and ins.json and ins.arguments:
                shell = tuple(ins.arguments)
            elif name in ("COPY", "ADD"):
                expanded = self.copy_reads(stage, ins, exp, reads, stages, names)
            elif name == "RUN":
                self.run_mounts(stage, ins, exp, reads, mounts, stages, names)
                for hd in ins.heredocs:
                    reads.append(Read("heredoc", [hd.name], via="mount"))
            stage.steps.append(
                Step(
                    ins,
                    stage.index,
                    dict(env),
                    dict(args),
                    workdir,
                    user,
                    shell,
                    expanded,
                    reads,
                    mounts,
                    unmatched,
                )
            )
        stage.env, stage.args, stage.workdir, stage.user, stage.shell = (
            env,
            args,
            workdir,
            user,
            shell,
        )

    def stage_ref(
        self,
        stage: Stage,
        ref: str,
        ins: Instruction,
        stages: list[Stage],
        names: dict[str, int],
        by_index: bool,
    ) -> int | None:
        """Resolve `--from=ref` to a stage index; None means an external image."""
        if by_index and ref.lstrip("-").isdigit():
            idx = int(ref)
            if idx < 0 or idx >= len(stages):
                self.error(f"invalid stage index {idx}", ins)
                return None
            found: int | None = idx
        else:
            found = names.get(ref.lower())
        if found is None:
            return None
        if found == stage.index:
            self.error(f"{ins.name} --from cannot refer to its own stage {ref!r}", ins)
        elif found > stage.index:
            self.error(
                f"cannot copy from stage {ref!r}, it needs to be defined before current stage "
                f"{stage.display_name!r}",
                ins,
            )
        stage.deps.setdefault(found, ins)
        return found

    def copy_reads(
        self,
        stage: Stage,
        ins: Instruction,
        exp: _Expander,
        reads: list[Read],
        stages: list[Stage],
        names: dict[str, int],
    ) -> tuple[str, ...]:
        words = list(ins.arguments)
        if len(words) < 2:
            return tuple(words)
        expanded = [w if heredoc_marker(w) else exp(w) for w in words]
        sources, dest = expanded[:-1], expanded[-1]
        excludes = [exp(v) for v in ins.flag_values("exclude")]
        parents = _bool_flag(ins, "parents")
        kind_via: Literal["copy", "add"] = "copy" if ins.name == "COPY" else "add"
        markers = [(w, heredoc_marker(w)) for w in sources]
        paths = [w for w, marker in markers if marker is None]
        heredoc_names = [marker[0] for _, marker in markers if marker is not None]
        if heredoc_names:
            reads.append(Read("heredoc", heredoc_names, via=kind_via))
        from_flag = ins.flag("from") if ins.name == "COPY" else None
        if from_flag is not None and from_flag.value:
            ref = from_flag.value
            if "$" in ref and self.lexer.process_word(ref, {}).result != ref:
                self.error(
                    "variable expansion is not supported for --from, define a new stage with "
                    "FROM using ARG from global scope as a workaround",
                    ins,
                    from_flag.span,
                )
            found = self.stage_ref(stage, ref, ins, stages, names, by_index=True)
            if found is not None:
                reads.append(Read("stage", paths, excludes, parents, stage=found, via="copy"))
            else:
                stage.external_images.append((ref, ins))
                reads.append(Read("image", paths, excludes, parents, image=ref, via="copy"))
        else:
            local = []
            for src in paths:
                kind = _remote_kind(src) if ins.name == "ADD" else None
                if kind is not None:
                    reads.append(Read(kind, [src], via="add"))
                else:
                    local.append(src)
            if local:
                reads.append(Read("context", local, excludes, parents, via=kind_via))
        return (*sources, dest)

    def run_mounts(
        self,
        stage: Stage,
        ins: Instruction,
        exp: _Expander,
        reads: list[Read],
        mounts: list[Mount],
        stages: list[Stage],
        names: dict[str, int],
    ) -> None:
        for flag in ins.flags:
            if flag.name != "mount" or flag.value is None:
                continue
            mount = self.parse_mount(flag.value, ins, flag.span, exp)
            if mount is None:
                continue
            mounts.append(mount)
            if mount.from_:
                found = names.get(mount.from_.lower())
                if found is not None:
                    self.stage_ref(stage, mount.from_, ins, stages, names, by_index=False)
                    if mount.type in ("bind", "cache"):
                        reads.append(
                            Read(
                                "stage",
                                [mount.source or "/"],
                                stage=found,
                                via="mount",
                                mount_target=mount.target,
                            )
                        )
                else:
                    stage.external_images.append((mount.from_, ins))
                    reads.append(
                        Read(
                            "image",
                            [mount.source or "/"],
                            image=mount.from_,
                            via="mount",
                            mount_target=mount.target,
                        )
                    )
            elif mount.type == "bind":
                reads.append(
                    Read("context", [mount.source or "."], via="mount", mount_target=mount.target)
                )

    def parse_mount(self, value: str, ins: Instruction, span: Span, exp: _Expander) -> Mount | None:
        try:
            fields = next(csv.reader([value], skipinitialspace=False), [])
        except csv.Error as exc:
            self.error(f"failed to parse csv mounts: {exc}", ins, span)
            return None
        kv: dict[str, str] = {}
        mtype, readonly_auto, readonly = "bind", True, False
        for fld in fields:
            key, sep, val = fld.partition("=")
            key = key.lower()
            if not sep:
                if key in ("readonly", "ro"):
                    readonly, readonly_auto = True, False
                elif key in ("readwrite", "rw"):
                    readonly, readonly_auto = False, False
                elif key == "required" and mtype in ("secret", "ssh"):
                    pass
                else:
                    self.error(f"invalid field '{fld}' must be a key=value pair", ins, span)
                    return None
                continue
            val = exp(val)
            if key not in _MOUNT_KEYS:
                self.error(f"unexpected key '{key}' in '{fld}'", ins, span)
                return None
            if key == "type":
                mtype = val.lower()
                if mtype not in _MOUNT_TYPES:
                    self.error(f"unsupported mount type {val!r}", ins, span)
                    return None
            elif key in ("readonly", "ro", "readwrite", "rw"):
                b = _parse_go_bool(val)
                if b is None:
                    self.error(f"invalid value for {key}: {val}", ins, span)
                    return None
                readonly = b if key in ("readonly", "ro") else not b
                readonly_auto = False
            kv[key] = val
        if readonly_auto:
            readonly = mtype not in ("cache", "tmpfs")
        return Mount(
            type=mtype,
            target=kv.get("target") or kv.get("dst") or kv.get("destination"),
            source=kv.get("source") or kv.get("src"),
            from_=kv.get("from"),
            id=kv.get("id"),
            sharing=kv.get("sharing"),
            readonly=readonly,
            env=kv.get("env"),
            fields=kv,
        )

    # -- what BuildKit checks when it turns syntax into instructions ---------------------------

    def validate(self, ins: Instruction) -> None:
        name = ins.name
        if ins.trigger is not None:
            trig = ins.trigger.name
            if trig == "ONBUILD":
                self.error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", ins)
            elif trig in ("MAINTAINER", "FROM"):
                self.error(f"{trig} isn't allowed as an ONBUILD trigger", ins)
            else:
                self.validate(ins.trigger)
        if name not in KNOWN_INSTRUCTIONS:
            self.error(f"unknown instruction: {ins.keyword}", ins, ins.keyword_span)
            return
        self.validate_flags(ins)
        n = len(ins.arguments)
        if name == "FROM":
            if n == 3 and ins.arguments[1].lower() == "as":
                stage_name = ins.arguments[2].lower()
                if not stage_name[:1].isalpha() or not set(stage_name) <= _STAGE_NAME_CHARS:
                    self.error(
                        f"invalid name for build stage: {ins.arguments[2]!r}, name can't start "
                        "with a number or contain symbols",
                        ins,
                        ins.words[2].span,
                    )
            elif n != 1:
                self.error("FROM requires either one or three arguments", ins)
        elif name in ("COPY", "ADD") and n < 2:
            self.error(
                f"{name} requires at least two arguments, but only one was provided. "
                "Destination could not be determined",
                ins,
            )
        elif name in ("WORKDIR", "USER", "MAINTAINER", "STOPSIGNAL") and n != 1:
            self.error(f"{name} requires exactly one argument", ins)
        elif (
            name in ("ENV", "LABEL", "ARG", "EXPOSE", "VOLUME", "ONBUILD", "HEALTHCHECK") and n == 0
        ):
            self.error(f"{name} requires at least one argument", ins)
        elif name == "SHELL":
            if n == 0:
                self.error("SHELL requires at least one argument", ins)
            elif not ins.json:
                self.error("SHELL requires the arguments to be in JSON form", ins)
        elif name == "HEALTHCHECK":
            typ = ins.arguments[0].upper()
            if typ == "NONE" and n > 1:
                self.error("HEALTHCHECK NONE takes no arguments", ins)
            elif typ == "CMD" and n == 1:
                self.error("Missing command after HEALTHCHECK CMD", ins)
            elif typ not in ("NONE", "CMD"):
                self.error(f'Unknown type "{typ}" in HEALTHCHECK (try CMD)', ins)
        if name == "ENV" or name == "LABEL":
            for kv in ins.pairs:
                if not kv.key:
                    self.error(f"{name} names can not be blank", ins, kv.span)
        if name == "ARG":
            for word in ins.arguments:
                if word.startswith("="):
                    self.error("ARG names can not be blank", ins)
        if name == "VOLUME":
            for word in ins.arguments:
                if not word.strip():
                    self.error("VOLUME specified can not be an empty string", ins)
        if name in ("COPY", "ADD") and n >= 2 and heredoc_marker(ins.arguments[-1]):
            self.error(f"{name} cannot accept a heredoc as a destination", ins)

    def validate_flags(self, ins: Instruction) -> None:
        name = ins.name
        allowed = FLAGS.get(name, {})
        if name == "HEALTHCHECK" and ins.arguments and ins.arguments[0].upper() == "NONE":
            allowed = {}
        seen: set[str] = set()
        for flag in ins.flags:
            if flag.text == "--":
                return
            if not flag.text.startswith("--"):
                self.error(f"arg should start with -- : {flag.text}", ins, flag.span)
                return
            fname = flag.name
            kind = allowed.get(fname)
            if kind is None:
                self.error(f"unknown flag: --{fname}", ins, flag.span)
                return
            if fname in seen and kind != "strings":
                self.error(f"duplicate flag specified: --{fname}", ins, flag.span)
                return
            seen.add(fname)
            value = flag.value
            if kind == "bool":
                if value == "":
                    self.error(f"missing a value on flag: --{fname}", ins, flag.span)
                    return
                if value is not None and value.lower() not in ("true", "false"):
                    self.error(
                        f"expecting boolean value for flag --{fname}, not: {value}", ins, flag.span
                    )
                    return
            elif value is None:
                self.error(f"missing a value on flag: --{fname}", ins, flag.span)
                return


def _stage_name(ins: Instruction) -> str | None:
    args = ins.arguments
    if len(args) == 3 and args[1].lower() == "as":
        return args[2].lower()
    return None


def _arg_decls(ins: Instruction) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for word in ins.arguments:
        if "=" in word:
            key, value = word.split("=", 1)
            out.append((key, value))
        else:
            out.append((word, None))
    return out


def _bool_flag(ins: Instruction, name: str) -> bool:
    flag = ins.flag(name)
    if flag is None:
        return False
    return flag.value is None or flag.value.lower() == "true"


def _parse_go_bool(value: str) -> bool | None:
    lowered = value.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    return None


def _remote_kind(src: str) -> Literal["url", "git"] | None:
    """ADD sources that are not context paths: git repositories and HTTP(S) URLs."""
    lowered = src.lower()
    if lowered.startswith(("git@", "git://")):
        return "git"
    if lowered.startswith(("http://", "https://")):
        path = lowered.split("#", 1)[0].split("?", 1)[0]
        return "git" if path.endswith(".git") else "url"
    return None


def _reachable(stages: list[Stage], target: int) -> set[int]:
    seen: set[int] = set()
    todo = [target]
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        st = stages[i]
        if st.base_stage is not None:
            todo.append(st.base_stage)
        todo.extend(st.deps)
    return seen
