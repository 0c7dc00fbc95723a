"""The ``kyojosim`` command line.

Commands::

    kyojosim run SCENARIO [--years N] [--seed S] [--scale F] [--set key.path=value ...] [--out DIR] [--lang ja|en]
                 [--quiet]
    kyojosim validate SCENARIO [--set key.path=value ...]
    kyojosim projection [SCENARIO ...] [--seeds N] [--jobs N] [--full] [--out DIR]
    kyojosim variants SCENARIO [SCENARIO ...] [--seeds N] [--seed S] [--jobs N] [--years N] [--set k=v ...]
                      [--out DIR] [--restart] [--lang ja|en] [--quiet]
    kyojosim compare RESULTS_OR_EXPERIMENT [--baseline V] [--pool] [--lang ja|en] [--out DIR]
    kyojosim report RESULTS_OR_EXPERIMENT [--lang ja|en] [--out FILE]
    kyojosim dashboard [SCENARIO] [--host HOST] [--port PORT] [--lang ja|en]
    kyojosim sweep EXPERIMENT [--jobs N] [--backend loky|dask] [--scheduler ADDRESS] [--out DIR] [--restart] [--quiet]
                   [--years N] [--scale F] [--replicates N] [--target-halfwidth X [--max-replicates N]] [--lang ja|en]
    kyojosim scenarios
    kyojosim experiments
    kyojosim assumptions [SCENARIO] [--csv]
    kyojosim robustness EXPERIMENT --samples N [--jobs N] [--out DIR] [--parameters KEY ...] [--threshold [M=]X ...]
                        [--design lhs|sobol] [--replicates R] [--seed S] [--lang ja|en] [--restart] [--quiet]
    kyojosim new MUNICIPALITY [--out FILE] [--scale F] [--seeds N] [--force] [--quiet]
    kyojosim municipalities [QUERY]
    kyojosim scorecard [SCENARIO ...] [--seeds N] [--scale S] [--out DIR] [--lang ja|en] [--fast] [--jobs N]
    kyojosim --version

``SCENARIO`` is a YAML file, the name of a bundled scenario (``yamae``, ``ikoma``, ``koto``; ``kyojosim
scenarios`` lists them) or a
municipality of Japan by code or name (``29209``, ``生駒市``, ``Ikoma``), whose scenario is built from
the census and IPSS tables the first time and kept in the user cache folder.
Tables and summaries are printed in Japanese (``--lang ja``, the default) or English (``--lang en``), every
heading and name from the glossary (:mod:`kyojosim.present.labels`).
Errors in the input (a missing or invalid scenario, a bad override, an unwritable output folder)
print ``error: <message>`` and exit with status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import KyojoError, ScenarioError, ScenarioWarning
from .runs.executor import BACKENDS

EXIT_OK = 0
EXIT_USAGE = 2
"""Exit status for bad input: argparse usage errors and :class:`~kyojosim.errors.KyojoError`."""
EXIT_INTERRUPTED = 130


def parse_sets(items: Sequence[str] | None) -> dict[str, Any]:
    """Parse ``--set key.path=value`` items into an overrides mapping.

    Values are parsed as YAML (:func:`kyojosim.params.scenario.parse_value`), so ``3``, ``true`` and
    ``[1, 2]`` become numbers, booleans and lists.

    Args:
        items: The ``--set`` arguments.

    Returns:
        ``{"key.path": value}`` in the order given (a later item wins).

    Raises:
        ScenarioError: If an item is not ``KEY=VALUE`` with a non-empty key.
    """
    from .params.scenario import parse_value

    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError("--set", item, item, "allowed: KEY.PATH=VALUE, e.g. simulation.seed=3",
                                "not an assignment")
        out[key] = parse_value(value, key)
    return out


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    over = parse_sets(args.set)
    if getattr(args, "years", None) is not None:
        over["simulation.years"] = args.years
    if getattr(args, "seed", None) is not None:
        over["simulation.seed"] = args.seed
    if getattr(args, "scale", None) is not None:
        over["municipality.scale"] = args.scale
    return over


def _load(args: argparse.Namespace):
    from .params.scenario import find_scenario, load_scenario, scenario_warnings

    path = find_scenario(args.scenario)
    scn = load_scenario(path, _overrides(args))
    for note in scenario_warnings(scn):
        warnings.warn(f"{path}: {note}", ScenarioWarning, stacklevel=2)
    return path, scn


def out_path(value: str | None, default: Path | None = None, what: str = "folder") -> Path:
    """Return the path given with ``--out``, or ``default`` when none was given.

    Raises:
        KyojoError: If ``--out`` was given empty (it would otherwise fall back to the default silently).
    """
    if value is None:
        if default is None:  # pragma: no cover - every command with an optional --out has a default
            raise KyojoError(f"--out: no {what} given")
        return default
    if not value.strip():
        raise KyojoError(f"--out: got an empty path; allowed: a {what} (leave --out out for the default)")
    return Path(value)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a :class:`~kyojosim.errors.ScenarioWarning` as ``warning: <message>``; others as Python would."""
    if issubclass(category, ScenarioWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


# --------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    """Load and check a scenario; print a one-line summary."""
    path, scn = _load(args)
    m = scn.municipality
    print(f"OK: {path} ({scn.name}, {m.name_en}, population {m.population}, {len(m.districts)} districts)")
    return EXIT_OK


def summary_table(years, needs=None, scale: float = 1.0, lang: str = "ja") -> str:
    """Format the yearly summary printed after a run (:func:`kyojosim.present.tables.run_summary_table`).

    Counts are scaled to the whole municipality (divided by ``municipality.scale`` where the metric
    scales, :data:`kyojosim.measures.outcomes.METRICS`); headings come from the glossary.

    Args:
        years: The ``years`` table of a run, with ``population_scaled`` present.
        needs: The ``needs`` table of the run; if given, a column with the matching rate of the
            needs decided (matched or lapsed) in the year that ends at each row.
        scale: The run's ``municipality.scale``.
        lang: ``"ja"`` or ``"en"``.

    Returns:
        The table as text, one line per year.
    """
    from .present.tables import run_summary_table

    return run_summary_table(years, needs, scale, lang)


def cmd_run(args: argparse.Namespace, command: Sequence[str]) -> int:
    """Run a scenario, print the yearly summary and save the results."""
    from .runs.results import results_folder, run

    out_path(args.out, Path("."))  # an empty --out is refused before anything is read
    _, scn = _load(args)
    out = out_path(args.out, results_folder(f"{scn.name or 'run'}-{scn.simulation.seed}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)  # printed when the scenario was loaded
        result = run(scn, progress=False if args.quiet else None, command=list(command))
    result.save(out)
    if not args.quiet:
        from .present.labels import text

        m, lang = scn.municipality, args.lang
        note = text("cli.run_scale_note", lang, scale=f"{1 / m.scale:g}") if m.scale != 1 else ""
        print(text("cli.run_head", lang, name=scn.name, municipality=m.name if lang == "ja" else m.name_en,
                   seed=scn.simulation.seed, years=scn.simulation.years, note=note))
        print(text("cli.run_groups", lang))
        print(text("cli.run_matched", lang))
        print(summary_table(result.to_pandas("years"), result.to_pandas("needs"), m.scale, lang))
        print(text("cli.results", lang, path=out))
    return EXIT_OK


def cmd_projection(args: argparse.Namespace) -> int:
    """Run the bundled (or named) municipalities for several seeds and compare with their projections."""
    from .analysis import projection
    from .atomic import write_parquet
    from .params.scenario import load_scenario

    if args.seeds < 1:
        raise ScenarioError("--seeds", "seeds", args.seeds, "allowed: 1 or more seeds", "out of range")
    scns = [load_scenario(name, parse_sets(args.set)) for name in (args.scenarios or projection.BUNDLED)]
    for scn in scns:
        if scn.demography.projection is None:
            raise ScenarioError(scn.name, "demography.projection", None,
                                "allowed: a scenario with a projection (years, total, share_65plus)", "missing")
    out = out_path(args.out)
    runs = projection.track(scns, seeds=range(1, args.seeds + 1), n_jobs=args.jobs, full=args.full)
    table = projection.compare(runs, scns)
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(out / "runs.parquet", runs)
    write_parquet(out / "comparison.parquet", table)
    projection.plot(runs, scns, out / "projection.png")
    if not args.quiet:
        print(f"population, 65+ and 75+ shares: mean of {args.seeds} seeds against the projection in each scenario "
              "file (errors: total in %, shares in points)")
        show = table[["scenario", "year", "projected_total", "simulated_total", "total_error",
                      "projected_65plus", "simulated_65plus", "share_65plus_diff",
                      "projected_75plus", "simulated_75plus", "share_75plus_diff"]].copy()
        show["total_error"] = show["total_error"].map(lambda v: f"{v:+.1%}")
        for col in ("share_65plus_diff", "share_75plus_diff"):
            show[col] = show[col].map(lambda v: "" if v != v else f"{100 * v:+.1f}")
        for col in ("projected_65plus", "simulated_65plus", "projected_75plus", "simulated_75plus"):
            show[col] = show[col].map(lambda v: "" if v != v else f"{v:.1%}")
        for col in ("projected_total", "simulated_total"):
            show[col] = show[col].map(lambda v: f"{v:,.0f}")
        print(show.to_string(index=False))
        print(f"results: {out} (runs.parquet, comparison.parquet, projection.png)")
    return EXIT_OK


def cmd_variants(args: argparse.Namespace) -> int:
    """Sweep scenarios as the variants of the first over shared seeds; print the comparison with the first."""
    from .analysis.compare import compare
    from .runs.results import results_folder
    from .runs.store import load
    from .runs.sweep import sweep, variants_experiment

    if args.seeds < 1:
        raise ScenarioError("--seeds", "seeds", args.seeds, "allowed: 1 or more replicates", "out of range")
    sets = parse_sets(args.set)
    if "simulation.seed" in sets:
        raise ScenarioError("--set", "simulation.seed", sets["simulation.seed"], "allowed: --seed S (the replicates' "
                            "seeds are drawn from it, the same in every variant)", "not allowed")
    out = out_path(args.out, Path("."))  # checked before anything runs
    exp = variants_experiment(args.scenarios, replicates=args.seeds, seed=args.seed, years=args.years, overrides=sets)
    out = out_path(args.out, results_folder(exp.name))
    try:
        sweep(exp, out=out, jobs=args.jobs, progress=not args.quiet, restart=args.restart)
    except KeyboardInterrupt:
        print(f"interrupted: the runs finished so far are kept in {out}; run the same command again to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    res = load(out)
    if not args.quiet:
        from .present.labels import municipality_names, text, variant_labels
        from .present.tables import comparison_table, intervals_text

        print_recovered(res.manifest)
        for f in res.manifest["failures"][:10]:
            print(f"  failed: {f['run_id']}: {f['error']}")
        if len(res.variants) > 1:
            table = compare(res)
            shown = variant_labels(res, args.lang)
            print(text("cli.variants_head", args.lang, name=exp.name, baseline=shown.get(res.baseline, res.baseline),
                       replicates=args.seeds))
            print(intervals_text(table, args.lang))
            print(comparison_table(table, lang=args.lang, labels=shown, places=municipality_names(res, args.lang)))
        else:
            print(f"{exp.name}: one scenario, nothing to compare; its summary is in {out / 'summary.parquet'}")
        print(f"results: {out} (kyojosim compare {out} for the figures, kyojosim report {out} for the report)")
    return EXIT_OK


def print_recovered(manifest: dict[str, Any], limit: int = 10) -> None:
    """Print what a sweep recovered from: runs found damaged and run again, runs run again after a worker died."""
    recovered = manifest.get("recovered") or {}
    damaged = recovered.get("damaged") or []
    if damaged:
        print(f"{len(damaged)} finished run(s) were damaged and were run again:")
        for d in damaged[:limit]:
            print(f"  damaged: {d['run_id']}: {d['problem']}")
    retried = recovered.get("retried") or []
    if retried:
        print(f"{len(retried)} run(s) were run again after their worker process died:")
        for r in retried[:limit]:
            print(f"  run again: {r['run_id']} (attempt {r['attempts']}; {r['reason']})")


COMPARE_FIGURES = ("timeseries", "comparison", "tsunagari_by_group", "population_pyramid")
"""PNG files written by ``kyojosim compare`` (``<name>.png``)."""


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare every variant of an experiment with its baseline; write comparison.csv and the figures."""
    import pandas as pd

    from .analysis import national
    from .analysis.compare import compare
    from .atomic import write_text
    from .present import figures, robustness_figures
    from .present.labels import municipality_names, text, variant_labels
    from .present.report import HEADLINE_METRICS, load_results
    from .present.tables import comparison_table, intervals_text, national_text

    out_path(args.out, Path("."))  # an empty --out is refused before the results are read
    folder, results = load_results(args.results)
    out = out_path(args.out, folder / "comparison")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KyojoError(f"cannot create the output folder {out}: {exc.strerror or exc}") from exc
    baseline = args.baseline or results.baseline
    shown = variant_labels(results, args.lang)
    places = municipality_names(results, args.lang)
    municipal = national.municipal_scenarios(results)
    written = []
    table = nation = None
    points = int(results.design["point"].nunique()) if len(results.design) else 0
    if len(results.variants) > 1:
        table = compare(results, baseline=args.baseline, pool=args.pool)
        write_text(out / "comparison.csv", table.to_csv(index=False))
        written.append("comparison.csv")
        if municipal:  # municipalities of Japan: one national table and figure instead of one chart per scenario
            nation = national.national_table(results, comparison=table)
            written += write_national(nation, out, args.lang, shown.get(baseline, baseline), shown)
        elif points > 1 and not args.pool and results.parameters:
            robustness_figures.effect_by_parameter(table, lang=args.lang, path=out / "effect_by_parameter.png")
            written.append("effect_by_parameter.png")
        else:  # one point, or the points pooled on purpose: one interval per variant and metric
            figures.comparison_chart(table, lang=args.lang, baseline=baseline, path=out / "comparison.png",
                                     labels=shown, places=places)
            written.append("comparison.png")
    indices = None
    if (results.manifest.get("design") or {}).get("type") == "sobol":
        from .analysis.sensitivity import sensitivity

        metrics = ("matching_rate", "matching_rate_age_75plus", "tsunagari_mean")
        indices = pd.concat([sensitivity(results, metric=m).assign(metric=m) for m in metrics], ignore_index=True)
        write_text(out / "sensitivity.csv", indices.to_csv(index=False))
        figures.sensitivity_chart(indices, lang=args.lang, path=out / "sensitivity.png")
        written += ["sensitivity.csv", "sensitivity.png"]
    if not municipal:  # figures of one scenario (the first): not a picture of many municipalities
        figures.timeseries(results, lang=args.lang, path=out / "timeseries.png")
        figures.tsunagari_by_group(results, lang=args.lang, path=out / "tsunagari_by_group.png")
        figures.population_pyramid(results, lang=args.lang, path=out / "population_pyramid.png")
        written += ["timeseries.png", "tsunagari_by_group.png", "population_pyramid.png"]
    if not args.quiet:
        if nation is not None:
            print(text("cli.national_head", args.lang, folder=folder, n=f"{len(municipal):,}",
                       baseline=shown.get(baseline, baseline)))
            print(intervals_text(table, args.lang))
            print(national_text(nation, national.DEFAULT_METRIC, lang=args.lang, labels=shown))
        elif table is not None:
            varied = text("cli.varied", args.lang, parameters=", ".join(results.parameters)) if points > 1 else ""
            print(text("cli.compare_head", args.lang, folder=folder, baseline=shown.get(baseline, baseline),
                       varied=varied))
            print(intervals_text(table, args.lang))
            print(comparison_table(table, HEADLINE_METRICS, lang=args.lang, labels=shown, places=places))
        if indices is not None:
            print(f"{folder}: Sobol indices (first order S1, total ST, 95% half-widths), "
                  f"{int(results.design['point'].nunique())} design points")
            cols = ["metric", "variant", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
            print(indices[cols].round(3).to_string(index=False))
        print(f"results: {out} ({', '.join(written)})")
    return EXIT_OK


NATIONAL_FILES = ("national.csv", "national_ranking.csv", "national_by_class.csv", "national_gradient.csv",
                  "national_effect.png")
"""What ``kyojosim compare`` writes besides comparison.csv for an experiment that names municipalities."""


def write_national(nation: Any, out: Path, lang: str, baseline: str, labels: dict[str, str]) -> list[str]:
    """Write the national table, its ranking, classes and line, and the figure of an experiment over municipalities.

    Args:
        nation: The table of :func:`kyojosim.analysis.national.national_table`.
        out: The output folder.
        lang: Language of the figure.
        baseline: Display name of the baseline, for the figure.
        labels: Display names of the variants, by name (:func:`kyojosim.present.labels.variant_labels`).

    Returns:
        The names of the files written (:data:`NATIONAL_FILES`).
    """
    from .analysis import national
    from .atomic import write_text
    from .present.national_figures import effect_by_municipality

    metric = national.DEFAULT_METRIC
    write_text(out / "national.csv", nation.to_csv(index=False))
    write_text(out / "national_ranking.csv", national.ranking(nation, metric).to_csv(index=False))
    write_text(out / "national_by_class.csv", national.by_class(nation, metric).to_csv(index=False))
    write_text(out / "national_gradient.csv", national.gradient(nation, metric).to_csv(index=False))
    effect_by_municipality(nation, metric, lang=lang, baseline=baseline, labels=labels,
                           path=out / "national_effect.png")
    return list(NATIONAL_FILES)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of an experiment (one self-contained file)."""
    from .present.report import load_results, write_report
    from .present.robustness_report import FINDINGS, default_folder, load_robustness

    out_path(args.out, Path("."), "file")  # an empty --out is refused before the results are read
    folder, results = load_results(args.results)
    name = str(results.manifest.get("name") or "") or None
    robustness = None
    if args.robustness is not None:
        robustness = load_robustness(Path(args.robustness), name)
    elif (default_folder(folder) / FINDINGS).is_file():
        robustness = load_robustness(default_folder(folder), name)
    out = out_path(args.out, folder / f"report-{args.lang}.html", "file")
    path = write_report(results, out, lang=args.lang, robustness=robustness)
    if not args.quiet:
        used = f" (robustness: {robustness['folder']})" if robustness is not None else ""
        print(f"report: {path}{used}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Check the scenario, then serve the dashboard with Solara in this process until interrupted.

    The server runs in this process (not a second Python that would import kyojosim, mesa and pandas
    again): ``solara run APP --production --no-check-version`` (no request to the package index at start,
    no usage statistics sent out). SIGTERM and Ctrl+C stop it.
    """
    import os
    import warnings

    from .distribution import require_extra
    from .params.scenario import find_scenario, load_scenario
    from .present.dashboard import APP_PATH, LANG_ENV, SCENARIO_ENV

    require_extra("dashboard")
    if not 0 < args.port < 65536:
        raise ScenarioError("--port", "port", args.port, "allowed: a TCP port, 1-65535", "out of range")
    path = find_scenario(args.scenario)
    load_scenario(path)
    source = str(path.resolve()) if path.is_file() else args.scenario
    os.environ[SCENARIO_ENV] = source
    os.environ[LANG_ENV] = args.lang
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # read when solara's settings are imported
    # no warning at every page load that a plain-http cookie is not SameSite=None
    warnings.filterwarnings("ignore", message="Cookies with samesite", category=UserWarning)
    from solara.__main__ import run as solara_run

    print(f"dashboard of {args.scenario}: http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    solara_run.main([str(APP_PATH), "--host", args.host, "--port", str(args.port), "--production",
                     "--no-check-version"], standalone_mode=False)
    return EXIT_OK


def cmd_new(args: argparse.Namespace, command: Sequence[str]) -> int:
    """Write the scenario file of a municipality, built from the census and IPSS tables."""
    from .runs import builder

    rec = builder.japan.lookup(args.municipality)
    slug = rec.name_en.rsplit(" ", 1)[0].lower().replace(" ", "-")
    out = None if args.out == "-" else out_path(args.out, Path(f"{slug}-{rec.code}.yaml"), "file")
    if out is not None and out.exists() and not args.force:
        raise KyojoError(f"{out} exists; give another --out, or --force to replace it")
    if args.scale is not None and not 0 < args.scale <= 1:
        raise ScenarioError("--scale", "scale", args.scale, "allowed: 0 < F <= 1", "out of range")
    if args.seeds < 1:
        raise ScenarioError("--seeds", "seeds", args.seeds, "allowed: 1 or more seeds", "out of range")
    built = builder.build(rec.code, scale=args.scale, seeds=range(1, args.seeds + 1),
                          progress=False if args.quiet else None)
    if out is None:
        sys.stdout.write(built.text(" ".join(command)))
        return EXIT_OK
    if out.parent and not out.parent.exists():
        raise KyojoError(f"cannot write {out}: the folder {out.parent} does not exist")
    builder.write(built, out, " ".join(command))
    if not args.quiet:
        m = built.data["municipality"]
        print(f"{rec.label()}: population {rec.population:,} (census 2015), {len(m['districts'])} district(s), "
              f"scale {m['scale']:g}")
        if built.fit is not None:
            t = built.fit.table
            d65, d75 = (100 * t[f"share_{a}plus_diff"].abs().max() for a in (65, 75))
            print(f"migration fitted to the IPSS 2018 projection (mean of seeds 1-{args.seeds}): total within "
                  f"{t['total_error'].abs().max():.1%}, 65+ share within {d65:.1f} points, 75+ share within "
                  f"{d75:.1f} points, 2015-2045")
        else:
            print(builder.japan.no_projection_reason(rec) + ": the scenario has no projection target")
        print(f"scenario: {out} (kyojosim run {out})")
    return EXIT_OK


def cmd_municipalities(args: argparse.Namespace) -> int:
    """List the municipalities whose code, name, reading or prefecture contains QUERY (all without one)."""
    from .params import japan

    m = japan.municipalities()
    if args.query:
        q = args.query.strip()
        key = japan.romaji_key(q)
        hit = (m["code"].str.startswith(q) | m["name"].str.contains(q, regex=False)
               | m["prefecture"].str.contains(q, regex=False) | m["kana"].str.contains(q, regex=False))
        if key:
            hit |= m["name_en"].map(japan.romaji_key).str.contains(key, regex=False)
        m = m[hit]
    if m.empty:
        raise KyojoError(f"no municipality matches {args.query!r}")
    show = m[["code", "name", "prefecture", "name_en", "population", "households", "area_km2", "ipss"]].copy()
    show["population"] = show["population"].map("{:,}".format)
    show["households"] = show["households"].map("{:,}".format)
    show["ipss"] = show["ipss"].map({True: "yes", False: "no (福島県)"})
    show = show.rename(columns={"ipss": "IPSS 2018 projection", "area_km2": "area km²"})
    print(show.to_string(index=False))
    print(f"{len(show)} of 1,741 municipalities (census 2015, table 00100); a scenario for one: kyojosim new CODE")
    return EXIT_OK


def cmd_scorecard(args: argparse.Namespace, command: Sequence[str]) -> int:
    """Score the model against every published pattern of the targets file; write the CSV and the HTML pages."""
    from .analysis.scorecard import load_targets, scorecard, write_scorecard
    from .present.scorecard import format_table, summary_line, write_html
    from .runs.executor import check_options

    check_options(args.jobs)
    out = out_path(args.out)
    targets = load_targets(args.targets)
    if out.exists() and not out.is_dir():
        raise KyojoError(f"--out: {out} exists and is not a folder; allowed: a folder")

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    card = scorecard(targets, args.scenarios, seeds=args.seeds, scale=args.scale, fast=args.fast, jobs=args.jobs,
                     progress=say, command=list(command))
    pages = [write_html(card, out, lang) for lang in ("ja", "en")]
    written = write_scorecard(card, out, pages)  # scorecard.json last: the folder then holds the whole scorecard
    if not args.quiet:
        what = "fast subset" if args.fast else "all targets"
        print(f"kyojosim {card.manifest['kyojosim_version']} scorecard ({what}, {len(card.scores)} targets; "
              f"{summary_line(card, args.lang)})")
        print(format_table(card, args.lang))
        print(f"results: {out} ({written['csv'].name}, {written['seeds'].name}, {written['json'].name}, "
              f"{', '.join(p.name for p in pages)})")
    return EXIT_OK


MAX_SCENARIO_LINES = 20
"""Above this many scenarios ``kyojosim sweep`` prints the matching rate by variant only."""


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) an experiment sweep and consolidate its results folder.

    With ``--target-halfwidth``, add replicates until every headline interval is that narrow or the
    cap is reached (:func:`kyojosim.analysis.precision.sweep_to_halfwidth`), and say which.
    """
    from .params.experiment import load_experiment
    from .runs.results import results_folder
    from .runs.store import load
    from .runs.sweep import sweep

    out_path(args.out, Path("."))  # an empty --out is refused before anything is read
    exp = load_experiment(args.experiment, years=args.years, scale=args.scale, replicates=args.replicates)
    out = out_path(args.out, results_folder(exp.name))
    precision = None
    if args.max_replicates is not None and args.target_halfwidth is None:
        raise ScenarioError("--max-replicates", "max_replicates", args.max_replicates,
                            "allowed: only with --target-halfwidth X", "not allowed")
    try:
        if args.target_halfwidth is not None:
            from .analysis.precision import sweep_to_halfwidth

            def say(row: dict) -> None:
                if not args.quiet:
                    point = "" if row["point"] is None else f", point {row['point']}"
                    print(f"{row['replicates']} replicates: widest headline interval ±{row['widest']:.3g} "
                          f"({row['variant']}, {row['metric']}{point})", file=sys.stderr)

            precision = sweep_to_halfwidth(exp, args.target_halfwidth, args.max_replicates, out=out, jobs=args.jobs,
                                           backend=args.backend, scheduler=args.scheduler, progress=not args.quiet,
                                           restart=args.restart, on_pass=say)
        else:
            sweep(exp, out=out, jobs=args.jobs, backend=args.backend, scheduler=args.scheduler,
                  progress=not args.quiet, restart=args.restart)
    except KeyboardInterrupt:
        print(f"interrupted: the runs finished so far are kept in {out}; run the same command again to resume "
              f"(kyojosim sweep {args.experiment} --out {out})", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.quiet:
        res = load(out)
        runs = res.manifest["runs"]
        held = int(res.manifest.get("replicates", exp.replicates))
        more = (f" ({held} replicates: the folder holds more than the file's {exp.replicates}, all kept)"
                if held > exp.replicates and precision is None else "")
        print(f"{exp.name}: {runs['done'] + runs['failed'] + runs['pending']} runs ({runs['done']} done, "
              f"{runs['failed']} failed){more}; {res.manifest['timings'].get('runs_skipped', 0)} were already done; "
              f"baseline: {exp.baseline}")
        print_recovered(res.manifest)
        for f in res.manifest["failures"][:10]:
            print(f"  failed: {f['run_id']}: {f['error']}")
        if len(res.summary):
            from .present.labels import municipality_names, text, variant_labels
            from .present.tables import means_table, variant_range_table

            summary = res.table("summary")
            n_scenarios = summary["scenario"].nunique()
            shown = variant_labels(res, args.lang)
            if n_scenarios > MAX_SCENARIO_LINES:  # all of Japan: one line per variant (kyojosim compare for the rest)
                print(text("cli.sweep_range", args.lang, n=f"{n_scenarios:,}", path=out))
                print(variant_range_table(summary, args.lang, shown))
            else:
                table = summary.groupby(["scenario", "variant"], sort=False)["matching_rate"].mean()
                print(text("cli.sweep_means", args.lang))
                print(means_table(table, args.lang, shown, municipality_names(res, args.lang)))
        if precision is not None:
            print(precision.message() + " (half-widths in points for rates)")
        print(f"results: {out}")
    return EXIT_OK


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the bundled scenarios."""
    from .params import bundled

    table = bundled.scenarios()
    table["population"] = table["population"].map("{:,}".format)
    print(table.drop(columns=["file", "description"]).to_string(index=False))
    print(f"files in {Path(table['file'].iloc[0]).parent}; run one: kyojosim run NAME; any other municipality: "
          "kyojosim new NAME")
    return EXIT_OK


def cmd_experiments(args: argparse.Namespace) -> int:
    """List the bundled experiments."""
    from .params import bundled

    table = bundled.experiments()
    print(table.drop(columns=["file"]).to_string(index=False))
    print(f"files in {Path(table['file'].iloc[0]).parent}; run one: kyojosim sweep NAME (format: docs/experiments.md)")
    return EXIT_OK


def cmd_assumptions(args: argparse.Namespace) -> int:
    """List the assumption register: every ``assumption:`` parameter with its plausible range and basis."""
    from .analysis.robustness import format_register, register_csv
    from .params.scenario import assumption_register, find_scenario, load_scenario

    scn = load_scenario(find_scenario(args.scenario)) if args.scenario else None
    register = assumption_register(scn)
    if args.csv:
        sys.stdout.write(register_csv(register))
        return EXIT_OK
    where = f"in {scn.name}" if scn is not None else "defaults"
    print(f"{len(register)} assumptions ({where}); plausible: the range an uncertainty analysis varies (×: a factor "
          "applied to every element of a list or mapping); kyojosim robustness samples it")
    print(format_register(register, show_value=scn is not None))
    return EXIT_OK


def cmd_robustness(args: argparse.Namespace) -> int:
    """Run an experiment's variants over a sample of the assumption register; write tables, summary and figures."""
    from .analysis.robustness import format_robustness, robustness
    from .present.robustness_figures import robustness_figures

    out = out_path(args.out) if args.out is not None else None
    try:
        folder, result = robustness(args.experiment, args.samples, out=out, jobs=args.jobs,
                                    parameters=args.parameters or None, design=args.design,
                                    replicates=args.replicates, seed=args.seed, metrics=args.metrics or None,
                                    thresholds=args.threshold or None, progress=not args.quiet,
                                    restart=args.restart)
    except KeyboardInterrupt:
        print("interrupted: the samples finished so far are kept; run the same command again to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    names = robustness_figures(result, folder, lang=args.lang)
    if not args.quiet:
        print(format_robustness(result))
        print(f"results: {folder} (spread, dependence, regions, conditions, effects, samples as .parquet and .csv; "
              f"findings.json, summary.txt, {', '.join(names)}; the runs in {folder / 'sweep'})")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# parser and entry point
# --------------------------------------------------------------------------------------


def _version() -> str:
    from .runs.results import package_version

    return package_version()


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kyojosim`` command."""
    parser = argparse.ArgumentParser(
        prog="kyojosim",
        description="Agent-based simulation of mutual aid (共助) in ageing, shrinking Japanese municipalities.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    set_help = "override a scenario key, e.g. --set simulation.seed=3 (repeatable; values parsed as YAML)"
    scenario_help = ("scenario file, the name of a bundled scenario (yamae, ikoma, koto), or a municipality by code "
                     "or name (29209, 生駒市, Ikoma: its scenario is built from the census and IPSS tables the first "
                     "time)")

    p_run = sub.add_parser("run", help="run a scenario and save its results", description="Run a scenario, "
                           "print a yearly summary and save the results (Parquet tables and manifest.json).")
    p_run.add_argument("scenario", metavar="SCENARIO", help=scenario_help)
    p_run.add_argument("--years", type=int, metavar="N", help="length of the run in years (simulation.years)")
    p_run.add_argument("--seed", type=int, metavar="S", help="random seed (simulation.seed)")
    p_run.add_argument("--scale", type=float, metavar="F",
                       help="fraction of residents simulated, 0 < F <= 1 (municipality.scale)")
    p_run.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", default=[], help=set_help)
    p_run.add_argument("--out", metavar="DIR", help="results folder (default: results/<scenario>-<seed>)")
    p_run.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the summary (default ja)")
    p_run.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")

    p_val = sub.add_parser("validate", help="check a scenario file", description="Load and check a scenario.")
    p_val.add_argument("scenario", metavar="SCENARIO", help=scenario_help)
    p_val.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", default=[], help=set_help)
    p_proj = sub.add_parser("projection", help="compare population decline with the projections",
                            description="Run municipalities for several seeds; compare the total population and "
                            "the 65+ and 75+ shares with the projection of each scenario file; write tables and a "
                            "figure.")
    p_proj.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="default: yamae ikoma koto")
    p_proj.add_argument("--seeds", type=int, default=3, metavar="N", help="seeds 1..N (default 3)")
    p_proj.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel workers (default 1)")
    p_proj.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", default=[], help=set_help)
    p_proj.add_argument("--out", default="results/projection", metavar="DIR",
                        help="results folder (default: results/projection)")
    p_proj.add_argument("--full", action="store_true",
                        help="run the whole model (mutual aid too) instead of its population alone (same population, "
                        "slower)")
    p_proj.add_argument("--quiet", "-q", action="store_true", help="no table")

    p_var = sub.add_parser("variants", help="compare scenario variants over the same seeds",
                           description="Sweep the scenarios as the variants of the first (the baseline), N "
                           "replicates each with shared seeds, into a results folder, and print the paired "
                           "comparison of every variant with the baseline (as kyojosim compare).")
    p_var.add_argument("scenarios", nargs="+", metavar="SCENARIO", help=scenario_help)
    p_var.add_argument("--seeds", type=int, default=3, metavar="N", help="replicates per variant (default 3)")
    p_var.add_argument("--seed", type=int, default=1, metavar="S",
                       help="experiment seed the replicates' seeds are drawn from (default 1)")
    p_var.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                       help="parallel workers (default 1; -1: all cores)")
    p_var.add_argument("--years", type=int, metavar="N", help="length of each run (simulation.years)")
    p_var.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", default=[], help=set_help)
    p_var.add_argument("--out", metavar="DIR",
                       help="results folder (default: results/<SCENARIO-vs-SCENARIO...>)")
    p_var.add_argument("--restart", action="store_true",
                       help="delete the results already in --out (even of other variants) and start again")
    p_var.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the table (default ja)")
    p_var.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no table")

    results_help = "results folder of an experiment, or an experiment file or name (its folder results/<name>)"
    p_cmp = sub.add_parser("compare", help="compare the variants of an experiment with its baseline",
                           description="Paired differences of every variant from the baseline (same scenario, "
                           "design point and replicate), one row per design point, with 95%% intervals (paired t "
                           "for few pairs, BCa bootstrap from 30; the method is named); writes comparison.csv and "
                           "the figures as PNG (the effect against each varied parameter for a design).")
    p_cmp.add_argument("results", metavar="RESULTS_OR_EXPERIMENT", help=results_help)
    p_cmp.add_argument("--baseline", metavar="V", help="variant to compare against (default: the experiment's)")
    p_cmp.add_argument("--pool", action="store_true",
                       help="average over the design points (one row per variant and metric) instead of one row per "
                       "point; the effect may depend on the parameters the design varies")
    p_cmp.add_argument("--lang", choices=("ja", "en"), default="ja",
                       help="language of the table and the figures (default ja)")
    p_cmp.add_argument("--out", metavar="DIR", help="output folder (default: <results>/comparison)")
    p_cmp.add_argument("--quiet", "-q", action="store_true", help="no table")

    p_rep = sub.add_parser("report", help="write the HTML report of an experiment",
                           description="Write one self-contained HTML file (figures embedded, no external "
                           "resources): the question, the municipality and variants, what holds under the "
                           "assumptions (from kyojosim robustness, when run), the headline table, the change at "
                           "each design point, the figures and the model's main assumptions.")
    p_rep.add_argument("results", metavar="RESULTS_OR_EXPERIMENT", help=results_help)
    p_rep.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the report (default ja)")
    p_rep.add_argument("--out", metavar="FILE", help="HTML file (default: <results>/report-<lang>.html)")
    p_rep.add_argument("--robustness", metavar="DIR", help="folder of kyojosim robustness for this experiment "
                       "(default: <results>-robustness when it exists)")
    p_rep.add_argument("--quiet", "-q", action="store_true", help="do not print the file name")
    p_dash = sub.add_parser("dashboard", help="run a scenario interactively in the browser",
                            description="Serve the dashboard (a Solara page in the shape of mesa's SolaraViz, in "
                            "Japanese or English): choose the municipality (a bundled town opens with its own case "
                            "on), switch interventions, step the model a month at a time and watch the charts, beside "
                            "a run with every intervention off. See docs/dashboard.md.")
    p_dash.add_argument("scenario", nargs="?", default="yamae", metavar="SCENARIO",
                        help=scenario_help + "; default yamae")
    p_dash.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only)")
    p_dash.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p_dash.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the page (default ja)")
    p_sw = sub.add_parser("sweep", help="run an experiment (scenarios x variants x design x replicates)",
                          description="Run every run of an experiment file in parallel, saving each as it finishes; "
                          "running the same command again resumes. See docs/experiments.md.")
    p_sw.add_argument("experiment", metavar="EXPERIMENT",
                      help="experiment file, or the name of a bundled one (kyojosim experiments lists them)")
    p_sw.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="parallel workers (default 1; -1: all)")
    p_sw.add_argument("--backend", choices=BACKENDS, default="loky",
                      help="loky: local processes (default); dask: a dask.distributed cluster")
    p_sw.add_argument("--scheduler", metavar="ADDRESS",
                      help="dask scheduler address, e.g. tcp://127.0.0.1:8786 (default: a local cluster)")
    p_sw.add_argument("--out", metavar="DIR", help="results folder (default: results/<experiment name>)")
    p_sw.add_argument("--restart", action="store_true",
                      help="delete the results already in --out (even of another experiment) and start again")
    p_sw.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the summary (default ja)")
    p_sw.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    p_sw.add_argument("--years", type=int, metavar="N", help="replace the experiment's years (a shorter trial)")
    p_sw.add_argument("--scale", type=float, metavar="F", help="replace the experiment's scale, 0 < F <= 1")
    p_sw.add_argument("--replicates", type=int, metavar="N", help="replace the experiment's number of replicates")
    p_sw.add_argument("--target-halfwidth", type=float, metavar="X",
                      help="add replicates (new seeds; the runs done are kept) until every headline interval "
                      "(matching rate overall and 75+, つながり力) at every design point is at most ±X (points for "
                      "rates), or --max-replicates is reached; says which")
    p_sw.add_argument("--max-replicates", type=int, metavar="N",
                      help="cap on replicates with --target-halfwidth (default 20)")
    p_as = sub.add_parser("assumptions", help="list the assumption register (plausible ranges and their basis)",
                          description="List every parameter whose source says assumption: with its default, the "
                          "range of values the evidence allows, the unit and the basis of that range (the register "
                          "kyojosim robustness samples).")
    p_as.add_argument("scenario", nargs="?", metavar="SCENARIO", help=scenario_help + " (its values shown too)")
    p_as.add_argument("--csv", action="store_true", help="print CSV (lists and mappings as JSON) instead of a table")
    p_rob = sub.add_parser("robustness", help="effects of an experiment's variants across the assumptions",
                           description="Run the experiment's variants over a sample of the assumption register's "
                           "plausible ranges (each sample: the baseline and every variant with the same seeds), then "
                           "report for each headline metric the spread of the effect, the share of the space where "
                           "the variant helps by more than the threshold, the assumptions it depends on and the "
                           "regions where it fails (PRIM). Resumable: run the same command again.")
    p_rob.add_argument("experiment", metavar="EXPERIMENT", help="experiment file or bundled name (no design)")
    p_rob.add_argument("--samples", "-n", type=int, required=True, metavar="N",
                       help="samples (lhs), or Saltelli's N, a power of 2 (sobol: N x (d + 2) samples)")
    p_rob.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="parallel workers (default 1)")
    p_rob.add_argument("--out", metavar="DIR", help="output folder (default: results/<experiment>-robustness)")
    p_rob.add_argument("--parameters", nargs="+", metavar="KEY",
                       help="register keys or patterns to vary, e.g. 'interventions.sharing_platform.*' "
                       "helping.weekly_hours_free (default: all but those of interventions no variant uses)")
    p_rob.add_argument("--threshold", action="append", metavar="[METRIC=]X",
                       help="the variant helps when its effect exceeds X (points for rates; default 0); repeatable")
    p_rob.add_argument("--metrics", nargs="+", metavar="METRIC", help="default: the headline metrics")
    p_rob.add_argument("--design", choices=("lhs", "sobol"), default="lhs",
                       help="lhs: Latin hypercube, RBD-FAST indices (default); sobol: Saltelli's sample, Sobol indices")
    p_rob.add_argument("--replicates", type=int, default=1, metavar="R", help="seeds at each sample (default 1)")
    p_rob.add_argument("--seed", type=int, metavar="S", help="experiment seed (default: the experiment's)")
    p_rob.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the figures (default ja)")
    p_rob.add_argument("--restart", action="store_true", help="delete the samples already run and start again")
    p_rob.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    p_new = sub.add_parser("new", help="write the scenario file of any municipality of Japan",
                           description="Build a complete scenario for a municipality from the census 2015 and IPSS "
                           "2018 tables shipped with kyojosim: age structure, households, districts, fertility, "
                           "migration by age fitted to the projection; every figure names its table. See "
                           "docs/scenarios.md.")
    p_new.add_argument("municipality", metavar="MUNICIPALITY",
                       help="code (29209) or name (生駒市, 奈良県生駒市, Ikoma); kyojosim municipalities QUERY "
                       "lists them")
    p_new.add_argument("--out", metavar="FILE", help="scenario file to write (default: <name>-<code>.yaml here; "
                       "- prints it)")
    p_new.add_argument("--scale", type=float, metavar="F",
                       help="fraction of residents simulated, 0 < F <= 1 (default: at most about 20,000 residents)")
    p_new.add_argument("--seeds", type=int, default=4, metavar="N",
                       help="fit the migration to the mean of seeds 1..N (default 4)")
    p_new.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p_new.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary")
    p_sc = sub.add_parser("scorecard", help="score the model against every published pattern",
                          description="Run every target of the targets file (kyojosim/data/targets.yaml): the "
                          "model's mean and 95%% interval over seeds against a band set by the source's "
                          "uncertainty or a stated tolerance; seeds are added until each interval is narrow "
                          "enough. Calibration targets (they set or fitted parameters) and validation targets "
                          "(independent) are shown apart. Writes scorecard.csv, scorecard.json and one HTML "
                          "page in Japanese and one in English. See docs/validation.md.")
    p_sc.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                      help="score only the targets of runs on these scenarios (ikoma also selects ikoma-platform); "
                      "default: all")
    p_sc.add_argument("--seeds", type=int, metavar="N", help="at most N seeds per run (default: the targets file's "
                      "max_seeds, 20; the fast subset: 3)")
    p_sc.add_argument("--scale", type=float, metavar="S",
                      help="fraction of residents simulated in every whole-model run, 0 < S <= 1 (default: each "
                      "run's own; the runs of the population alone keep their scenario's)")
    p_sc.add_argument("--out", default=str(Path("results") / "scorecard"), metavar="DIR",
                      help="output folder (default: results/scorecard)")
    p_sc.add_argument("--lang", choices=("ja", "en"), default="ja", help="language of the printed table (default "
                      "ja; both HTML pages are written)")
    p_sc.add_argument("--fast", action="store_true",
                      help="only the fast subset of the targets, at small scale with few seeds (as the tests run)")
    p_sc.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                      help="parallel workers (default 1; -1: all cores)")
    p_sc.add_argument("--targets", metavar="FILE", help="another targets file (default: the bundled one)")
    p_sc.add_argument("--quiet", "-q", action="store_true", help="no progress and no table")
    p_mun = sub.add_parser("municipalities", help="list Japan's municipalities (code, name, census 2015 figures)",
                           description="List the 1,741 municipalities, or those whose code, name, reading or "
                           "prefecture contains QUERY.")
    p_mun.add_argument("query", nargs="?", metavar="QUERY", help="e.g. 生駒, Ikoma, 奈良県, 292")
    sub.add_parser("scenarios", help="list the bundled scenarios", description="List the scenarios that ship with "
                   "kyojosim: name, municipality, scale, interventions, file.")
    sub.add_parser("experiments", help="list the bundled experiments", description="List the experiments that ship "
                   "with kyojosim: name, scenarios, variants, design, replicates, years, runs, file.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kyojosim`` command.

    Args:
        argv: The arguments (without the program name); default ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 2 for bad input (usage errors and
        :class:`~kyojosim.errors.KyojoError`), 130 when interrupted.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = ["kyojosim", *args_list]
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    with warnings.catch_warnings():
        warnings.simplefilter("always", ScenarioWarning)
        warnings.showwarning = _show_warning
        return _dispatch(args, command)


def _dispatch(args: argparse.Namespace, command: Sequence[str]) -> int:
    """Run the command of ``args``; turn bad input into ``error: <message>`` and exit status 2."""
    try:
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "run":
            return cmd_run(args, command)
        if args.command == "projection":
            return cmd_projection(args)
        if args.command == "variants":
            return cmd_variants(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "dashboard":
            return cmd_dashboard(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "assumptions":
            return cmd_assumptions(args)
        if args.command == "robustness":
            return cmd_robustness(args)
        if args.command == "new":
            return cmd_new(args, command)
        if args.command == "municipalities":
            return cmd_municipalities(args)
        if args.command == "scorecard":
            return cmd_scorecard(args, command)
        if args.command == "scenarios":
            return cmd_scenarios(args)
        if args.command == "experiments":
            return cmd_experiments(args)
    except KyojoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands first


__all__ = ["build_parser", "main", "parse_sets", "summary_table"]
