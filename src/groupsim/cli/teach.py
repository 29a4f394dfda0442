"""The teaching commands `groupsim ui`, `groupsim animate` and `groupsim replay`.

Registered on `groupsim.cli.app.app`. Like every command they parse, call the library and print;
a malformed scenario gives the same one-line error and exit status 2 as `groupsim run`, and
every input is checked before a server starts or a file is written.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groupsim.cli.app import SetOption, UsageError, app, check_minimums, console, parse_overrides
from groupsim.runs.store import check_output_path
from groupsim.scenario import load_scenario

__all__ = ["animate", "replay", "ui"]

ColourOption = Annotated[
    str,
    typer.Option(
        "--colour",
        help="State that colours the nodes: social_interaction, anxiety, skill, attitude, "
        "resolve, openness, rapport, disclosure, sociability",
    ),
]


LangOption = Annotated[
    str,
    typer.Option("--lang", help="Language of every label: en (English) or id (Bahasa Indonesia)"),
]


def _check_lang(lang: str) -> None:
    from groupsim.teach.messages import check_language

    try:
        check_language(lang)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _second_arm(first: Any, other: Path | None, overrides: dict[str, Any]) -> Any:
    """The second arm: a file or built-in, else the first with no group (home room if none)."""
    from groupsim.scenario import with_overrides

    if other is not None:
        return load_scenario(other, overrides)
    technique = "none" if first.counselor.technique != "none" else "home_room"
    return with_overrides(first, {"counselor.technique": technique}, f"{first.name} ({technique})")


def _check_colour(colour: str) -> None:
    from groupsim.document.network import COLOUR_STATES

    if colour not in COLOUR_STATES:
        raise UsageError(f"--colour: must be one of {', '.join(COLOUR_STATES)} (got {colour})")


@app.command()
def ui(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario file (.toml) or built-in name; default: the built-in defaults"
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8765,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; only this computer unless you give another"),
    ] = "127.0.0.1",
    lang: LangOption = "en",
) -> None:
    """Start the teaching page (Solara) and print its address; Ctrl-C stops it."""
    _check_lang(lang)
    if not 1 <= port <= 65535:
        raise UsageError(f"--port: must be between 1 and 65535 (got {port})")
    if scenario is not None:
        load_scenario(scenario)  # a bad file fails here, before any server starts
    for module in ("solara", "solara_assets", "altair"):
        if importlib.util.find_spec(module) is None:
            raise UsageError(
                f"ui: needs the optional UI packages ({module} is missing); "
                "install them with: pip install 'groupsim[ui]'"
            )
    from groupsim.teach.app import serve

    _check_listen(host, port)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"groupsim ui: open http://{shown}:{port}/ in a browser (Ctrl-C stops it)")
    sys.stdout.flush()
    status = serve(scenario, host=host, port=port, lang=lang)
    if status != 0:
        raise typer.Exit(code=status)


#: Addresses that only this computer can reach.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_listen(host: str, port: int) -> None:
    """Warn of an address others can reach; refuse a port in use (before any "open" line)."""
    import ipaddress
    import socket

    try:
        loopback = host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost
        loopback = False
    if not loopback:
        typer.echo(
            f"groupsim ui: warning: --host {host} lets other computers on the network open the "
            "teaching page (it has no password); use 127.0.0.1 to keep it on this computer",
            err=True,
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise UsageError(
                f"--port {port} on --host {host}: cannot listen there ({reason}); "
                "choose another --port"
            ) from None


@app.command()
def animate(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (.toml) or built-in name")],
    out: Annotated[Path, typer.Option(help="Animation to write: .gif, or .mp4 (needs ffmpeg)")],
    other: Annotated[
        Path | None,
        typer.Argument(help="The second arm (default: the same scenario with no intervention)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same run")] = 0,
    set_: SetOption = None,
    colour: ColourOption = "social_interaction",
    fps: Annotated[int, typer.Option(help="Weeks per second")] = 2,
    alone: Annotated[bool, typer.Option("--alone", help="Draw the first arm only")] = False,
    lang: LangOption = "en",
) -> None:
    """Render both arms' networks and a chart week by week as an animation for slides."""
    from groupsim.runs.runner import run as run_scenario
    from groupsim.teach.animate import animate as render
    from groupsim.teach.animate import check_animation_path

    check_minimums(seed=seed)
    _check_colour(colour)
    _check_lang(lang)
    if not 1 <= fps <= 30:
        raise UsageError(f"--fps: must be between 1 and 30 (got {fps})")
    overrides = parse_overrides(set_)
    loaded = load_scenario(scenario, overrides)
    second = None if alone else _second_arm(loaded, other, overrides)
    try:
        check_animation_path(out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = run_scenario(loaded, seed=seed)
    paired = None if second is None else run_scenario(second, seed=seed)
    render(result, out, colour_by=colour, fps=fps, other=paired, lang=lang)
    names = loaded.name
    if second is not None:
        names += f" vs {second.name} ({second.counselor.technique.replace('_', ' ')})"
    console.print(f"Wrote {out} ({result.weekly.shape[0]} weeks, {names}, seed {seed})")


@app.command()
def replay(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (.toml) or built-in name")],
    out: Annotated[Path, typer.Option(help="The HTML file to write (e.g. lesson.html)")],
    other: Annotated[
        Path | None, typer.Argument(help="A second scenario, shown side by side (same seed)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed, shared by both scenarios")] = 0,
    set_: SetOption = None,
    colour: ColourOption = "social_interaction",
    lang: LangOption = "en",
    explore: Annotated[
        bool,
        typer.Option(
            "--explore",
            help="Open every week from the start (default: predict mode, the weeks not yet "
            "played stay hidden)",
        ),
    ] = False,
) -> None:
    """Write one self-contained HTML page that replays the run(s) week by week."""
    check_minimums(seed=seed)
    _check_colour(colour)
    _check_lang(lang)
    overrides = parse_overrides(set_)
    scenarios = [load_scenario(scenario, overrides)]
    if other is not None:
        scenarios.append(load_scenario(other, overrides))
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{out}: --out: must end in .html")
    check_output_path(out, folder=False)
    from groupsim.runs.runner import run as run_scenario  # the model: once the input is good
    from groupsim.teach.replay import write_replay

    results = [run_scenario(s, seed=seed) for s in scenarios]
    write_replay(results, out, colour_by=colour, lang=lang, predict=not explore)
    names = " vs ".join(s.name for s in scenarios)
    console.print(f"Wrote {out} ({names}, seed {seed}): open it in any browser, no server needed")
