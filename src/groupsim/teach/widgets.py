"""The page's own widgets and style: a clickable network picture, picture export, the CSS.

:func:`NetworkPicture` shows an SVG drawing and reports a click on a client's disc (its
``data-student``) to Python; :func:`ExportPictures` saves the two drawings and the chart as
one PNG or SVG in the browser (no round trip to the server); :func:`KeyboardKeys` lets a
presenter's clicker (Page Down / Page Up) or the arrow keys step the page; :data:`PAGE_CSS`
lays the page out for a projector (1280x720 without scrolling) and, under 900 pixels, turns
the lesson panel into a menu.
"""

from __future__ import annotations

from collections.abc import Callable

import solara

__all__ = ["PAGE_CSS", "ExportPictures", "KeyboardKeys", "NetworkPicture"]


@solara.component_vue("vue/network_picture.vue")
def NetworkPicture(svg: str, event_select: Callable[[int], None] | None = None):
    """An SVG drawing; clicking a client's disc calls `event_select(student_id)`."""


@solara.component_vue("vue/export_pictures.vue")
def ExportPictures(png_label: str, svg_label: str, filename: str):
    """Buttons that save the page's drawings and chart as one PNG or SVG file."""


@solara.component_vue("vue/keyboard_keys.vue")
def KeyboardKeys(event_key: Callable[[str], None] | None = None):
    """Keys anywhere on the page call `event_key` with what they ask for.

    "step" for the right arrow or Page Down (a presenter's clicker), "back" for the left
    arrow or Page Up, "play" for the space bar; not while a control has the focus (a slider
    keeps its arrows, a button its space bar).
    """


#: Projector first: text at least 15 px, drawings that scale with the window, the controls
#: in a bar that stays on top, and no footer. Under 900 px the panel is a menu.
PAGE_CSS = """
.groupsim-layout { margin: 0; padding: 0; }
.groupsim-page { font-size: 15px; color: #263238; }
.groupsim-header {
  display: flex; align-items: center; gap: 10px; flex-wrap: wrap;
  padding: 4px 12px; background: #eceff1; border-bottom: 1px solid #cfd8dc;
  position: sticky; top: 0; z-index: 5;
}
.groupsim-brand { font-weight: bold; font-size: 18px; margin-right: 6px; }
.groupsim-speed { width: 270px; }
.groupsim-speed .v-input__slot { margin-bottom: 0; }
.groupsim-speed .v-messages { display: none; }
.groupsim-speed label.v-label { font-size: 14px; }
.groupsim-week { font-weight: bold; font-size: 16px; }
.groupsim-status { color: #bf360c; font-size: 15px; }
.groupsim-body { display: flex; align-items: flex-start; }
.groupsim-panel {
  flex: 0 0 300px; width: 300px; box-sizing: border-box; padding: 6px 10px;
  max-height: calc(100vh - 52px); overflow-y: auto; border-right: 1px solid #cfd8dc;
  position: sticky; top: 52px; background: white;
}
.groupsim-panel h4 { font-size: 16px; margin: 10px 0 4px 0; }
.groupsim-panel p, .groupsim-panel li { font-size: 15px; }
.groupsim-panel .v-label { font-size: 15px; }
.groupsim-preset { margin: 3px 0; }
.groupsim-preset .v-btn { width: 100%; justify-content: flex-start; text-transform: none;
  white-space: normal; height: auto !important; min-height: 32px; text-align: left;
  font-size: 15px; letter-spacing: 0; }
.groupsim-preset .v-btn__content { white-space: normal; flex: 1 1 auto; }
.groupsim-main { flex: 1 1 auto; min-width: 0; padding: 2px 10px; }
.groupsim-arms { display: flex; gap: 8px; }
.groupsim-arm { flex: 1 1 0; min-width: 0; }
.groupsim-arm h3 { font-size: 18px; margin: 2px 0 0 0; }
.groupsim-caption { font-size: 15px; display: block; min-height: 20px; }
.groupsim-picture svg { width: 100%; height: auto; display: block; cursor: pointer; }
.groupsim-bottom { display: flex; gap: 10px; align-items: flex-start; }
.groupsim-overlay { flex: 1 1 0; min-width: 0; }
.groupsim-overlay svg { width: 100%; height: auto; display: block; }
.groupsim-numbers { flex: 0 0 330px; font-size: 15px; }
.groupsim-numbers table, table.groupsim-student { border-collapse: collapse; width: 100%; }
.groupsim-numbers td, .groupsim-numbers th, table.groupsim-student td,
table.groupsim-student th { border-bottom: 1px solid #eceff1; padding: 1px 4px;
  text-align: right; font-size: 15px; }
.groupsim-numbers td:first-child, .groupsim-numbers th:first-child { text-align: left; }
.groupsim-students { display: flex; flex-wrap: wrap; gap: 12px; }
.groupsim-students > div { flex: 1 1 420px; min-width: 0; }
.groupsim-menu-button, .groupsim-close { display: none !important; }
.groupsim-export { display: flex; gap: 6px; flex-wrap: wrap; margin: 4px 0; }
footer, .solara-footer { display: none !important; }
@media (max-width: 900px) {
  .groupsim-menu-button, .groupsim-close { display: inline-flex !important; }
  .groupsim-brand { display: none; }
  .groupsim-panel {
    display: none; position: fixed; top: 0; left: 0; bottom: 0; width: 88vw;
    max-height: 100vh; z-index: 20; box-shadow: 0 0 24px rgba(0, 0, 0, 0.35);
  }
  .groupsim-panel.open { display: block; }
  .groupsim-arms, .groupsim-bottom { flex-direction: column; }
  .groupsim-numbers { flex: none; width: 100%; }
}
"""
