//! Pictures of the model: a rack's elevation as SVG, drawn the same by the CLI
//! (`rack show --svg`) and the HTTP server (`GET /rack/NAME.svg`).

use std::fmt::Write as _;

use crate::error::Result;
use crate::records::Entity;
use crate::view::View;

impl View<'_> {
    /// The elevation of rack `rack` as an SVG document (see [`rack_svg`]).
    pub fn rack_svg(&self, rack: &str) -> Result<String> {
        let units = self.rack_units(self.entity(rack)?.id)?;
        Ok(rack_svg(rack, &units))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The elevation of a rack named `rack` whose units are `units` (as
/// [`View::rack_units`] gives them, top unit first): one row per unit; a device spanning
/// several units is one box.
pub fn rack_svg(rack: &str, units: &[(i64, Option<Entity>)]) -> String {
    const ROW: usize = 18;
    const WIDTH: usize = 320;
    let name = |i: usize| units[i].1.as_ref().map(|e| e.name.as_str());
    let height = ROW * units.len() + 40;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" font-family=\"monospace\" font-size=\"11\">\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">{}</text>\n",
        escape(rack)
    );
    let mut i = 0;
    while i < units.len() {
        let mut span = 1;
        while i + span < units.len() && name(i + span).is_some() && name(i + span) == name(i) {
            span += 1;
        }
        let y = 30 + i * ROW;
        let _ = writeln!(s, "<text x=\"10\" y=\"{}\">U{}</text>", y + 13, units[i].0);
        let (fill, label) = match name(i) {
            Some(d) => ("#cfe2f3", escape(d)),
            None => ("#f4f4f4", String::new()),
        };
        let _ = writeln!(
            s,
            "<rect x=\"50\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" stroke=\"#555\"/>\n<text x=\"56\" y=\"{}\">{label}</text>",
            WIDTH - 60,
            span * ROW,
            y + 13
        );
        i += span;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::EntityId;

    fn device(name: &str) -> Option<Entity> {
        Some(Entity {
            id: EntityId(7),
            name: name.into(),
            type_name: "server".into(),
            driver: "basicserver".into(),
            version: 1,
            deleted_at: None,
        })
    }

    #[test]
    fn a_device_on_several_units_is_one_box_and_names_are_escaped() {
        let units = [(3, device("s<1>")), (2, device("s<1>")), (1, None)];
        let out = rack_svg("r1", &units);
        assert_eq!(out.matches("<rect").count(), 2, "{out}");
        assert!(out.contains("s&lt;1&gt;") && out.contains("height=\"36\""));
    }
}
