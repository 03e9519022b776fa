"""Cache keys of every step, computed from the inputs BuildKit computes them from.

What BuildKit (0.13, as in Docker 26) puts into a step's cache key, and what this model mirrors:

* `FROM <image>`: the image's layers (their chain id), not its config: a base image that only
  changed a LABEL keeps every step cached. Its ENV, USER and WORKDIR still reach the RUN steps
  (and USER the WORKDIR steps) through their own keys.
* `RUN`: the parent step's key, the command as written (SHELL, exec or shell form, heredocs), the
  environment (the base image's ENV, then ENV and every ARG in scope that has a value, so a new
  build-arg value invalidates every RUN after that ARG even if the command never reads it),
  working directory, user, `--network`/`--security` and the mount definitions. Not what a cache
  mount holds, not a secret's value. A bind mount adds the checksum of what it mounts: context
  files by content, another stage by its key or, failing that, by the content of the mounted path.
* `COPY`/`ADD` from the context: the parent's key, the copy action (source base names, the
  destination after WORKDIR, --chown/--chmod/--exclude/--parents/--link ...) and the checksum of
  the selected files (see `layerwise.cache.files`). Not ENV or ARG values unless the instruction
  uses them. `COPY --from=<stage>` is found either by the stage's key or by the checksum of the
  copied path in its result: a rebuilt stage whose copied files came out identical keeps the copy
  cached.
* `WORKDIR`: the parent's key, the path and the user.
* `COPY --link`: with the docker driver's classic image store, BuildKit has no merge operation and
  builds the copy on top of the previous step like any COPY (checked on the engine); a builder
  with merge support (docker-container, containerd store) keeps it independent of the previous
  step (`Features(merge_op=True)`).
* BuildKit before 0.16 keys a RUN that has a `secret` or `ssh` mount on the content of the
  filesystem it starts from instead of on the previous step's key (moby/buildkit "exec: fix
  incorrect deps computation for special mounts"): after an upstream rebuild it stays cached if
  the files came out the same (`Features(secret_mount_content=True)`, the default here).

Where a key depends on the bytes a re-run RUN produced (a content-keyed input after a rebuilt
RUN), the model cannot know them. It computes the key twice: assuming every re-run RUN wrote new
files, and assuming a re-run RUN writes the same files when its script, its mounts and the files
before it are the same (ARG and ENV values aside) and that a path is written only by the RUN steps
that name it (`--prefix=/install`), when one does. A file a COPY put somewhere keeps what the
COPY put there unless a later script names it. If only the second key is in the cache, the
prediction is marked uncertain and guessed cached (for a RUN keyed on all its files by the
BuildKit 0.13 quirk below: rebuilt).
"""

from __future__ import annotations

import copy
import itertools
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from layerwise.cache.digest import h
from layerwise.cache.files import ContextFiles, SourceSpec, clean_source
from layerwise.cache.plan import BuildPlan, PlannedStep
from layerwise.context import gopath
from layerwise.dockerfile.lex import Lexer, LexError
from layerwise.dockerfile.model import Mount, Read, Stage, Step

MAX_ALTERNATIVES = 64


@dataclass(frozen=True)
class Features:
    """What the builder does that changes cache keys (defaults: Docker 26's built-in BuildKit)."""

    merge_op: bool = False  # COPY --link builds on scratch and merges (docker-container builders)
    secret_mount_content: bool = True  # BuildKit < 0.16: RUN with secret/ssh mount keyed by content


DOCKER_BUILTIN = Features()  # Docker 26's BuildKit 0.13 with the classic image store


@dataclass(frozen=True)
class BaseImage:
    """What a `FROM <image>` contributes: its layers, and the config its steps inherit."""

    ref: str
    layers: str  # a fingerprint of the layer chain
    env: tuple[str, ...] = ()
    user: str = ""
    workdir: str = ""

    @classmethod
    def unknown(cls, ref: str) -> BaseImage:
        """An image known only by name: assumed unchanged while the name is unchanged."""
        return cls(ref, h("image", ref))


@dataclass(frozen=True)
class Record:
    """A cached result: the keys it is found under and a token for its files."""

    keys: frozenset[str]
    token: str


@dataclass
class CacheStore:
    """What BuildKit's cache holds, as the model sees it: every key of every recorded build."""

    keys: dict[str, Record] = field(default_factory=dict)
    relaxed: dict[str, Record] = field(default_factory=dict)

    def find(self, keys: Iterable[str]) -> Record | None:
        for k in keys:
            found = self.keys.get(k)
            if found is not None:
                return found
        return None

    def find_relaxed(self, keys: Iterable[str]) -> Record | None:
        for k in keys:
            found = self.relaxed.get(k)
            if found is not None:
                return found
        return None

    def record(self, build: BuildKeys) -> None:
        """Remember a build's results, as BuildKit does once it has run."""
        for step in build.steps:
            rec = Record(step.out_keys, step.token)
            for k in step.out_keys:
                self.keys.setdefault(k, rec)
            for k in step.relaxed:
                self.relaxed.setdefault(k, rec)


@dataclass(slots=True)
class Write:
    """One thing a step did to the filesystem, for working out later what a path contains."""

    kind: Literal["base", "run", "mkdir", "copy", "copyfrom", "opaque"]
    dest: str = "/"
    full: str = ""
    relaxed: str = ""
    spec: SourceSpec | None = None
    targets: tuple[tuple[str, str, str], ...] = ()  # (source, target, "dir"|"file"|"wild")
    stage_writes: tuple[Write, ...] = ()
    sources: tuple[str, ...] = ()
    command: str = ""  # a RUN's script, to tell whether it names a copied file


@dataclass(frozen=True)
class Content:
    """What a path holds in a stage's result, as far as the model can tell."""

    full: str
    relaxed: str
    copied_file: bool  # a single file a COPY put there


@dataclass(slots=True)
class Dep:
    """One input of a step's key: alternatives BuildKit may find it by, plus the relaxed one."""

    name: str  # "parent", "context", "stage:builder", "mount:/m", "root"
    alternatives: frozenset[str]
    relaxed: str | None = None  # differs from every alternative only for content-keyed inputs
    describe: str = ""
    spec: SourceSpec | None = None  # context files it reads
    likely_same: bool = False  # when only re-run steps differ, guess the input unchanged
    certain: bool = True
    input_rebuilt: bool = False  # the step or stage it reads from ran again in this build


@dataclass
class StepKeys:
    """One step evaluated against the store."""

    planned: PlannedStep
    keys: frozenset[str]  # any of them in the store: cached
    relaxed: frozenset[str]  # keys under "re-run steps reproduce their files"
    parts: dict[str, str]  # digests of the inputs, for telling what changed
    deps: list[Dep]
    env: dict[str, str]
    args: dict[str, str | None]
    parent: StepKeys | None
    cached: bool = False
    certain: bool = True
    via: Literal["key", "content", "guess", "new"] = "new"
    out_keys: frozenset[str] = frozenset()
    token: str = ""
    error: str | None = None


@dataclass
class StageResult:
    keys: frozenset[str]
    writes: tuple[Write, ...]
    image: BaseImage | None
    certain: bool
    last: StepKeys | None


@dataclass
class BuildKeys:
    plan: BuildPlan
    steps: list[StepKeys]
    stages: dict[int, StageResult]


def evaluate(
    plan: BuildPlan,
    files: ContextFiles,
    store: CacheStore,
    bases: Mapping[str, BaseImage] | None = None,
    features: Features = DOCKER_BUILTIN,
) -> BuildKeys:
    """Keys of every step of `plan` with the context `files`, and which the store has."""
    return _Evaluator(plan, files, store, bases or {}, features).run()


class _Evaluator:
    def __init__(
        self,
        plan: BuildPlan,
        files: ContextFiles,
        store: CacheStore,
        bases: Mapping[str, BaseImage],
        features: Features,
    ) -> None:
        self.plan = plan
        self.files = files
        self.store = store
        self.bases = bases
        self.features = features
        self.stages: dict[int, StageResult] = {}
        self.out: list[StepKeys] = []
        self.lexer = Lexer(plan.dockerfile.escape)

    def run(self) -> BuildKeys:
        for planned_stage in self.plan.stages:
            stage = planned_stage.stage
            result = self.start(stage)
            for ps in planned_stage.steps:
                if ps.keyword == "FROM":
                    result = self.from_image(ps, stage)
                    continue
                if not ps.layer:
                    continue
                result = self.step(ps, result)
            self.stages[stage.index] = result
        return BuildKeys(self.plan, self.out, self.stages)

    # -- stage starts ------------------------------------------------------------------------

    def start(self, stage: Stage) -> StageResult:
        if stage.base_stage is not None:
            base = self.stages.get(stage.base_stage)
            if base is not None:
                return base
        if stage.is_scratch or stage.base_stage is not None:
            return StageResult(frozenset({h("scratch")}), (), None, True, None)
        # FROM <image>: replaced by from_image() when the plan has its step.
        return StageResult(frozenset(), (), self.base_for(stage), True, None)

    def base_for(self, stage: Stage) -> BaseImage:
        ref = stage.base_name
        return self.bases.get(ref) or BaseImage.unknown(f"{ref}|{stage.platform or ''}")

    def from_image(self, ps: PlannedStep, stage: Stage) -> StageResult:
        image = self.base_for(stage)
        key = h("from", image.layers, stage.platform)
        keys = frozenset({key})
        sk = StepKeys(ps, keys, frozenset(), {"base": image.layers}, [], {}, {}, None)
        found = self.store.find(keys)
        sk.cached = found is not None
        sk.via = "key" if found is not None else "new"
        sk.out_keys = keys
        sk.token = image.layers
        self.out.append(sk)
        write = Write("base", full=image.layers, relaxed=image.layers)
        return StageResult(keys, (write,), image, True, sk)

    # -- one step ----------------------------------------------------------------------------

    def step(self, ps: PlannedStep, state: StageResult) -> StageResult:
        step = ps.step
        assert step is not None
        image = state.image
        parent = Dep(
            "parent",
            state.keys,
            None,
            describe="previous step",
            input_rebuilt=state.last is not None and not state.last.cached,
        )
        deps: list[Dep]
        parts: dict[str, str]
        writes = state.writes
        error: str | None = None
        link = False
        memo = self.plan.memo
        if ps.keyword == "WORKDIR":
            found_wd = memo.get((id(ps), "workdir", image))
            if found_wd is None:
                user = step.user or (image.user if image else "")
                op = h("mkdir", step.workdir, user)
                found_wd = (
                    op,
                    {"op": h("mkdir", step.workdir), "user": user},
                    Write("mkdir", dest=step.workdir, full=op, relaxed=op),
                )
                memo[(id(ps), "workdir", image)] = found_wd
            op, parts, new_write = found_wd
            deps = [parent]
        elif ps.keyword == "RUN":
            found_op = memo.get((id(ps), "run", image))
            if found_op is None:
                found_op = memo[(id(ps), "run", image)] = self.run_op(step, image)
            op, parts = found_op
            deps = [self.root_dep(step, parent, writes)]
            deps.extend(self.mount_deps(step))
            mounted = tuple(
                d.relaxed or h(*sorted(d.alternatives)) for d in deps if d.name.startswith("mount:")
            )
            before = self.content_of(writes, "/").relaxed
            found_write = memo.get((id(ps), "run-write", mounted, before))
            if found_write is None:
                # A re-run step is assumed to write the same files when its script, what it
                # mounts and the files before it are the same (ARG/ENV values aside).
                ins = step.instruction
                found_write = Write(
                    "run",
                    full="",
                    relaxed=h("run-out", parts["op"], *mounted, before),
                    command=" ".join((*ins.arguments, *(d.content for d in ins.heredocs))),
                )
                memo[(id(ps), "run-write", mounted, before)] = found_write
            new_write = found_write
        else:  # COPY / ADD
            op, parts, new_write, copy_deps, error = self.copy_op(ps, step)
            link = self.features.merge_op and _bool_flag(step, "link")
            deps = copy_deps if link else [parent, *copy_deps]
        certain = state.certain and all(d.certain for d in deps)
        # The same inputs as in the last build of this plan: the same keys, now in the cache.
        signature = (state.keys, tuple((d.alternatives, d.relaxed) for d in deps), image, link)
        last_key = (id(ps), "last")
        last = self.plan.memo.get(last_key)
        if last is not None and last[0] == signature and self.store.find(last[1].keys):
            prev_sk, prev_write, prev_out = last[1], last[2], last[3]
            sk = copy.copy(prev_sk)
            sk.deps, sk.parent, sk.cached, sk.certain = deps, state.last, True, certain
            sk.via, sk.error = "key", error
            self.out.append(sk)
            self.plan.memo[last_key] = (signature, sk, prev_write, prev_out)
            return StageResult(prev_out, (*writes, prev_write), image, certain, sk)
        keys = _combine(op, deps, relaxed=False)
        relaxed = _combine(op, deps, relaxed=True) if any(d.relaxed for d in deps) else frozenset()
        sk = StepKeys(
            ps,
            keys,
            relaxed,
            parts,
            deps,
            dict(step.env),
            dict(step.args),
            state.last,
            error=error,
        )
        found = self.store.find(keys)
        if found is not None:
            sk.cached, sk.via, sk.token = True, "key", found.token
            if any(d.input_rebuilt for d in deps):
                sk.via = "content"  # found by the content of an input that was rebuilt
            sk.out_keys = keys
        else:
            rec = self.store.find_relaxed(relaxed) if relaxed else None
            if rec is not None:
                certain = False
                guess = all(d.likely_same for d in deps if d.relaxed)
                if guess:
                    sk.cached, sk.via, sk.token = True, "guess", rec.token
                    sk.out_keys = keys | rec.keys
                else:
                    sk.out_keys = keys
                    sk.token = h("out", min(keys))
            else:
                sk.out_keys = keys
                sk.token = h("out", min(keys))
        sk.certain = certain
        if ps.keyword == "RUN":
            new_write = Write(
                "run", full=sk.token, relaxed=new_write.relaxed, command=new_write.command
            )
        out_keys = sk.out_keys
        if link:
            out_keys = _limit(frozenset(h("merge", a, b) for a in state.keys for b in sk.out_keys))
        self.out.append(sk)
        self.plan.memo[last_key] = (signature, sk, new_write, out_keys)
        return StageResult(out_keys, (*writes, new_write), image, certain, sk)

    # -- RUN ---------------------------------------------------------------------------------

    def run_op(self, step: Step, image: BaseImage | None) -> tuple[str, dict[str, str]]:
        ins = step.instruction
        env_items = _env_list(image.env if image else (), step.env)
        env_digest = h(*env_items)
        workdir = step.workdir
        if workdir == "/" and image is not None and image.workdir:
            workdir = image.workdir
        user = step.user or (image.user if image else "")
        command = h(
            "json" if ins.json else "shell",
            *(() if ins.json else step.shell),
            *ins.arguments,
            *(h(d.name, d.content, d.chomp, d.expand, d.fd) for d in ins.heredocs),
        )
        mounts = h(*(_mount_def(m) for m in step.mounts))
        flags = h(*(f"{f.name}={f.value}" for f in ins.flags if f.name in ("network", "security")))
        op = h("run", command, mounts, flags, env_digest, workdir, user)
        parts = {"op": h(command, mounts, flags), "workdir": workdir, "user": user}
        parts["env"] = env_digest
        return op, parts

    def root_dep(self, step: Step, parent: Dep, writes: tuple[Write, ...]) -> Dep:
        special = any(m.type in ("secret", "ssh") for m in step.mounts)
        if not (special and self.features.secret_mount_content):
            return parent
        content = self.content_of(writes, "/")
        return Dep(
            "root",
            parent.alternatives | {h("root", content.full)},
            h("root", content.relaxed),
            describe="the files of the previous step",
            input_rebuilt=parent.input_rebuilt,
        )

    def mount_deps(self, step: Step) -> list[Dep]:
        out: list[Dep] = []
        for read in step.reads:
            if read.via != "mount":
                continue
            target = read.mount_target or "?"
            if read.kind == "context":
                source = read.sources[0] if read.sources else "."
                spec = SourceSpec((source,), mount=True)
                digest = self.files.digest(spec)
                out.append(
                    Dep(
                        f"mount:{target}",
                        frozenset({h("ctx", digest.value)}),
                        describe=f"bind mount of {source}",
                        spec=spec,
                    )
                )
            elif read.kind == "stage" and read.stage is not None:
                out.append(self.stage_dep(read, target))
            elif read.kind == "image":
                out.append(
                    Dep(f"mount:{target}", frozenset({h("image", read.image, *read.sources)}))
                )
        return out

    def stage_dep(self, read: Read, name: str) -> Dep:
        assert read.stage is not None
        stage = self.stages.get(read.stage)
        label = self.plan.model.stages[read.stage].display_name
        if stage is None:
            return Dep(f"stage:{label}", frozenset({h("missing-stage", read.stage)}))
        paths = ["/" + clean_source(s) for s in read.sources] or ["/"]
        fast = {h("stage", k, *paths) for k in stage.keys}
        contents = [self.content_of(stage.writes, p) for p in paths]
        full = h("slow", *(c.full for c in contents))
        relaxed = h("slow", *(c.relaxed for c in contents))
        return Dep(
            f"stage:{label}",
            _limit(frozenset(fast | {full})),
            relaxed,
            describe=f"{', '.join(paths)} from stage {label!r}",
            likely_same=True,
            certain=stage.certain,
            input_rebuilt=stage.last is not None and not stage.last.cached,
        )

    # -- COPY / ADD --------------------------------------------------------------------------

    def copy_static(self, step: Step) -> tuple[str, str, bool]:
        """The copy action (what BuildKit hashes besides the files): op, destination, whether the
        destination is a directory."""
        ins = step.instruction
        expanded = list(step.expanded)
        if len(expanded) < 2:
            return h("copy-invalid", ins.logical), "/", False
        sources, dest = expanded[:-1], expanded[-1]
        dest_abs = dest if dest.startswith("/") else posixpath.join(step.workdir, dest)
        dir_like = dest.endswith("/") or len(sources) > 1 or dest in (".", "..")
        flags = []
        for flag in ins.flags:
            if flag.name == "from":
                continue
            value = flag.value
            if value is not None and flag.name in ("chown", "chmod", "checksum"):
                value = self._expand(value, step.env)
            flags.append(f"{flag.name}={value}")
        heredocs = [h(d.name, d.content, d.chomp, d.expand) for d in ins.heredocs]
        names = [posixpath.basename(gopath.clean("/" + s)) for s in sources]
        op = h(ins.name, *names, dest_abs, dir_like, *sorted(flags), *heredocs)
        return op, posixpath.normpath(dest_abs), dir_like

    def copy_op(
        self, ps: PlannedStep, step: Step
    ) -> tuple[str, dict[str, str], Write, list[Dep], str | None]:
        memo_key = (id(ps), "copy")
        static = self.plan.memo.get(memo_key)
        if static is None:
            static = self.plan.memo[memo_key] = self.copy_static(step)
        op, dest_path, dir_like = static
        deps: list[Dep] = []
        error = None
        write = Write("opaque", dest=dest_path, full=op, relaxed=op)
        memo = self.plan.memo
        for read in step.reads:
            if read.kind == "context":
                spec = SourceSpec(tuple(read.sources), tuple(read.excludes), read.parents)
                digest = self.files.digest(spec)
                error = digest.error
                # Steps are evaluated again and again with the same files (history replay).
                found = memo.get((id(ps), "ctx", digest.value))
                if found is None:
                    found = (
                        Dep(
                            "context",
                            frozenset({h("ctx", digest.value)}),
                            describe=", ".join(read.sources),
                            spec=spec,
                        ),
                        Write(
                            "copy",
                            dest=dest_path,
                            spec=spec,
                            targets=self._targets(ps, read, dest_path, dir_like),
                            full=h("copy", digest.value),
                            relaxed=h("copy", digest.value),
                        ),
                    )
                    memo[(id(ps), "ctx", digest.value)] = found
                deps.append(found[0])
                write = found[1]
            elif read.kind == "stage" and read.stage is not None:
                dep = self.stage_dep(read, "")
                deps.append(dep)
                source_stage = self.stages.get(read.stage)
                write = Write(
                    "copyfrom",
                    dest=dest_path,
                    stage_writes=source_stage.writes if source_stage else (),
                    sources=tuple("/" + clean_source(s) for s in read.sources),
                )
            elif read.kind == "image":
                deps.append(Dep("image", frozenset({h("image", read.image, *read.sources)})))
            elif read.kind in ("url", "git"):
                deps.append(Dep("remote", frozenset({h("remote", *read.sources)})))
        return op, {"op": op}, write, deps, error

    def _targets(
        self, ps: PlannedStep, read: Read, dest: str, dir_like: bool
    ) -> tuple[tuple[str, str, str], ...]:
        kinds = tuple(self.files.kind(clean_source(s)) for s in read.sources)
        memo_key = (id(ps), "targets", kinds)
        found = self.plan.memo.get(memo_key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        out = []
        for source in read.sources:
            src = clean_source(source)
            if read.excludes or read.parents or any(gopath.contains_wildcards(p) for p in [src]):
                out.append((src, dest, "wild"))
            elif self.files.kind(src) == "dir":
                out.append((src, dest.rstrip("/") or "/", "dir"))
            else:
                name = posixpath.basename(src)
                target = posixpath.join(dest, name) if dir_like else dest
                out.append((src, target, "file"))
        result = tuple(out)
        self.plan.memo[memo_key] = result
        return result

    def _expand(self, word: str, env: Mapping[str, str]) -> str:
        try:
            return self.lexer.process_word(word, env).result
        except LexError:
            return word

    # -- what a path holds -------------------------------------------------------------------

    def content_of(self, writes: Sequence[Write], path: str) -> Content:
        """What `path` holds after `writes`.

        A file that a COPY put exactly there holds what the COPY put there, changed later only by
        a RUN whose script names it (assumed to do the same to the same file). Anything else (a
        directory, files a RUN produced) depends on every write that touched it or a parent of
        it: the base image, every RUN, the COPY and WORKDIR steps whose destination is related.
        """
        path = posixpath.normpath("/" + path.lstrip("/"))
        full: list[str] = []
        relaxed: list[str] = []
        # Since the last COPY of exactly this file: (full, relaxed) parts, else None.
        copied: tuple[list[str], list[str]] | None = None
        name = posixpath.basename(path)
        naming = {id(w) for w in writes if w.kind == "run" and _names(w.command, path)}
        for w in writes:
            if w.kind in ("base", "run"):
                full.append(w.full)
                if w.kind == "base" or not naming or id(w) in naming:
                    relaxed.append(w.relaxed)
                if copied is not None and w.kind == "run" and name and name in w.command:
                    # A script that names the file may rewrite it (chmod, sed -i): the same
                    # script does the same to the same file.
                    script = h("script", w.command)
                    copied[0].append(script)
                    copied[1].append(script)
            elif w.kind in ("mkdir", "opaque"):
                if _related(w.dest, path):
                    full.append(w.full)
                    relaxed.append(w.relaxed)
            elif w.kind == "copy":
                for source, target, how in w.targets:
                    part, is_file = self._copy_part(w, source, target, how, path)
                    if part is None:
                        continue
                    full.append(part)
                    relaxed.append(part)
                    if is_file:
                        copied = ([part], [part])
                    elif copied is not None:
                        copied[0].append(part)
                        copied[1].append(part)
            elif w.kind == "copyfrom" and _related(w.dest, path):
                copied = None
                for source in w.sources:
                    inner = self.content_of(w.stage_writes, source)
                    full.append(inner.full)
                    relaxed.append(inner.relaxed)
        if copied is not None:
            return Content(h(path, *copied[0]), h(path, *copied[1]), True)
        return Content(h(path, *full), h(path, *relaxed), False)

    def _copy_part(
        self, w: Write, source: str, target: str, how: str, path: str
    ) -> tuple[str | None, bool]:
        if how == "wild":
            if _related(w.dest, path):
                assert w.spec is not None
                return h("all", self.files.digest(w.spec).value), False
            return None, False
        if path == target or path.startswith(target.rstrip("/") + "/"):
            rel = path[len(target.rstrip("/")) :].lstrip("/")
            sub = posixpath.join(source, rel) if rel else source
            sub = clean_source(sub)
            if how == "file" and rel:
                return None, False  # below a file: nothing
            kind = self.files.kind(sub)
            digest = self.files.digest(SourceSpec((sub or ".",), mount=True))
            return h("sub", rel, digest.value), kind == "file"
        if target.startswith(path.rstrip("/") + "/"):
            digest = self.files.digest(SourceSpec((source or ".",), mount=True))
            return h("under", target, digest.value), False
        return None, False


def _combine(op: str, deps: list[Dep], *, relaxed: bool) -> frozenset[str]:
    choices: list[Iterable[str]] = []
    for dep in deps:
        if relaxed and dep.relaxed is not None:
            choices.append([dep.relaxed])
        else:
            choices.append(sorted(dep.alternatives))
    out: set[str] = set()
    for combo in itertools.product(*choices):
        out.add(h(op, *combo))
        if len(out) >= MAX_ALTERNATIVES:
            break
    return frozenset(out)


def _limit(keys: frozenset[str]) -> frozenset[str]:
    if len(keys) <= MAX_ALTERNATIVES:
        return keys
    return frozenset(sorted(keys)[:MAX_ALTERNATIVES])


def _names(command: str, path: str) -> bool:
    """Does a script name this path or a directory above it (`--prefix=/install` names
    /install/lib)? The root names nothing."""
    parts = path.strip("/").split("/")
    for i in range(len(parts), 0, -1):
        prefix = "/" + "/".join(parts[:i])
        at = command.find(prefix)
        while at != -1:
            end = at + len(prefix)
            if end == len(command) or not (command[end].isalnum() or command[end] in "_-."):
                return True
            at = command.find(prefix, at + 1)
    return False


def _related(a: str, b: str) -> bool:
    """Is one path the other or below it?"""
    a, b = a.rstrip("/") or "/", b.rstrip("/") or "/"
    if a == b or a == "/" or b == "/":
        return True
    return a.startswith(b + "/") or b.startswith(a + "/")


def _env_list(base: Sequence[str], env: Mapping[str, str]) -> list[str]:
    out = [item for item in base if item.partition("=")[0] not in env]
    out.extend(f"{k}={v}" for k, v in env.items())
    return out


def _mount_def(m: Mount) -> str:
    fields = dict(m.fields)
    if m.type == "cache":
        fields.setdefault("id", m.target or "")
        fields.setdefault("sharing", "shared")
    for alias, name in (("dst", "target"), ("destination", "target"), ("src", "source")):
        if alias in fields:
            fields[name] = fields.pop(alias)
    fields["readonly"] = str(m.readonly)
    for drop in ("ro", "rw", "readwrite"):
        fields.pop(drop, None)
    return h(*(f"{k}={v}" for k, v in sorted(fields.items())))


def _bool_flag(step: Step, name: str) -> bool:
    flag = step.instruction.flag(name)
    if flag is None:
        return False
    return flag.value is None or flag.value.lower() == "true"
