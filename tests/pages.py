"""JavaScript probes of the served app's page, shared by the browser tests."""

# the map's bokeh view: the plot that has the box-edit tool
MAP_VIEW = """
() => {
  if (!window.Bokeh || !Bokeh.index) return null;
  for (const v of Bokeh.index.all_views()) {
    if (v.frame && v.model.toolbar &&
        v.model.toolbar.tools.some(t => String(t).startsWith("BoxEditTool("))) return v;
  }
  return null;
}
"""
# the page has rendered: every bokeh document idle, the map drawn and its title holding
# the given text (crop, depth, date)
MAP_READY = f"""
(text) => {{
  if (!window.Bokeh || !Bokeh.documents.length || !Bokeh.documents.every(d => d.is_idle))
    return false;
  const v = ({MAP_VIEW})();
  return v != null && v.has_finished() && String(v.model.title?.text ?? "").includes(text);
}}
"""
