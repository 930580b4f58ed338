//! The charts' SVG canvas: a plotters drawing backend that writes each shape
//! as an SVG element, and each text as the outlines of the DejaVu Sans glyphs
//! the PNG is drawn with.
//!
//! plotters' own SVG backend writes text as `<text font-family="sans-serif">`:
//! the viewer picks whatever sans font it has, whose widths differ from the
//! ones the layout (centred titles, legend boxes) was measured with, and a
//! machine without fonts shows boxes. Outlines render the same everywhere.
//! Each glyph is defined once and placed with `<use>`, so a chart stays
//! small; each text keeps its words in an `aria-label`, so it can be searched.

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
    FontTransform,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// The regular face, the one plotters is given for the PNGs too.
pub(super) const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The bold face.
pub(super) const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

fn faces() -> Option<&'static (FontRef<'static>, FontRef<'static>)> {
    static FACES: OnceLock<Option<(FontRef<'static>, FontRef<'static>)>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some((
                FontRef::try_from_slice(REGULAR).ok()?,
                FontRef::try_from_slice(BOLD).ok()?,
            ))
        })
        .as_ref()
}

/// An SVG document being drawn: the body in drawing order, and the glyphs
/// it uses, defined once each; [`DrawingBackend::present`] writes the whole
/// document into `out`.
pub(super) struct SvgCanvas<'a> {
    out: &'a mut String,
    size: (u32, u32),
    body: String,
    /// (bold, glyph id) → the path's id and its `d`, in order of first use.
    glyphs: BTreeMap<(bool, u16), (usize, String)>,
}

impl<'a> SvgCanvas<'a> {
    /// An empty canvas of `size` pixels, to be written into `out`.
    pub(super) fn new(out: &'a mut String, size: (u32, u32)) -> Self {
        SvgCanvas {
            out,
            size,
            body: String::new(),
            glyphs: BTreeMap::new(),
        }
    }

    /// The whole document: header, glyph definitions, body.
    fn document(&self) -> String {
        let (w, h) = self.size;
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" \
             xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
             width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n<defs>\n"
        );
        let mut defs: Vec<&(usize, String)> = self.glyphs.values().collect();
        defs.sort_by_key(|(id, _)| *id);
        for (id, d) in defs {
            let _ = writeln!(out, "<path id=\"g{id}\" d=\"{d}\"/>");
        }
        out.push_str("</defs>\n");
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }

    /// The `<use>` id of a glyph, defining it on first use; `None` for a
    /// glyph without outline (a space).
    fn glyph(&mut self, font: &FontRef<'_>, bold: bool, id: GlyphId) -> Option<usize> {
        let next = self.glyphs.len();
        if let Some((n, _)) = self.glyphs.get(&(bold, id.0)) {
            return Some(*n);
        }
        let outline = font.outline(id)?;
        let mut d = String::new();
        let mut at: Option<(f32, f32)> = None;
        for curve in &outline.curves {
            let (start, end) = match curve {
                OutlineCurve::Line(a, b) => (*a, *b),
                OutlineCurve::Quad(a, _, b) => (*a, *b),
                OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
            };
            if at != Some((start.x, start.y)) {
                if at.is_some() {
                    d.push('Z');
                }
                let _ = write!(d, "M{} {}", start.x, start.y);
            }
            let _ = match curve {
                OutlineCurve::Line(_, b) => write!(d, "L{} {}", b.x, b.y),
                OutlineCurve::Quad(_, c, b) => write!(d, "Q{} {} {} {}", c.x, c.y, b.x, b.y),
                OutlineCurve::Cubic(_, c1, c2, b) => {
                    write!(d, "C{} {} {} {} {} {}", c1.x, c1.y, c2.x, c2.y, b.x, b.y)
                }
            };
            at = Some((end.x, end.y));
        }
        if d.is_empty() {
            return None;
        }
        d.push('Z');
        self.glyphs.insert((bold, id.0), (next, d));
        Some(next)
    }
}

fn colour(c: BackendColor) -> String {
    let (r, g, b) = c.rgb;
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// ` opacity="…"` when the colour is translucent.
fn opacity(attr: &str, c: BackendColor) -> String {
    if c.alpha >= 1.0 {
        String::new()
    } else {
        format!(" {attr}=\"{}\"", short(c.alpha))
    }
}

/// A number with at most six significant digits and no trailing zeros.
fn short(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The fill or the outline of a shape in style `s`.
fn paint<S: BackendStyle>(s: &S, fill: bool) -> String {
    let c = s.color();
    if fill {
        format!("fill=\"{}\"{}", colour(c), opacity("fill-opacity", c))
    } else {
        format!(
            "fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}",
            colour(c),
            s.stroke_width(),
            opacity("stroke-opacity", c)
        )
    }
}

fn points(path: impl IntoIterator<Item = BackendCoord>) -> String {
    let mut s = String::new();
    for (x, y) in path {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "{x},{y}");
    }
    s
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

type Drawn = Result<(), DrawingErrorKind<std::fmt::Error>>;

impl DrawingBackend for SvgCanvas<'_> {
    type ErrorType = std::fmt::Error;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Drawn {
        Ok(())
    }

    fn present(&mut self) -> Drawn {
        *self.out = self.document();
        Ok(())
    }

    fn draw_pixel(&mut self, (x, y): BackendCoord, c: BackendColor) -> Drawn {
        if c.alpha > 0.0 {
            let _ = writeln!(
                self.body,
                "<rect x=\"{x}\" y=\"{y}\" width=\"1\" height=\"1\" fill=\"{}\"{}/>",
                colour(c),
                opacity("fill-opacity", c)
            );
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(&mut self, a: BackendCoord, b: BackendCoord, s: &S) -> Drawn {
        self.draw_path([a, b], s)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        (x0, y0): BackendCoord,
        (x1, y1): BackendCoord,
        s: &S,
        fill: bool,
    ) -> Drawn {
        let c = s.color();
        if c.alpha <= 0.0 {
            return Ok(());
        }
        let (x, y, w, h) = (x0.min(x1), y0.min(y1), (x1 - x0).abs(), (y1 - y0).abs());
        let paint = paint(s, fill);
        // A filled rectangle covers its corner pixels, as on the bitmap.
        let (w, h) = if fill { (w + 1, h + 1) } else { (w, h) };
        let _ = writeln!(
            self.body,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" {paint}/>"
        );
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Drawn {
        let c = s.color();
        if c.alpha <= 0.0 {
            return Ok(());
        }
        let _ = writeln!(
            self.body,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{} \
             stroke-linejoin=\"round\" points=\"{}\"/>",
            colour(c),
            s.stroke_width(),
            opacity("stroke-opacity", c),
            points(path)
        );
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        (x, y): BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> Drawn {
        let c = s.color();
        if c.alpha <= 0.0 {
            return Ok(());
        }
        let paint = paint(s, fill);
        let _ = writeln!(
            self.body,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" {paint}/>"
        );
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Drawn {
        let c = s.color();
        if c.alpha <= 0.0 {
            return Ok(());
        }
        let _ = writeln!(
            self.body,
            "<polygon fill=\"{}\"{} points=\"{}\"/>",
            colour(c),
            opacity("fill-opacity", c),
            points(path)
        );
        Ok(())
    }

    /// Text as glyph outlines, placed as the bitmap backend places the
    /// rasterised glyphs: the same anchor, baseline and advances.
    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, s: &S, pos: BackendCoord) -> Drawn {
        let c = s.color();
        if c.alpha <= 0.0 || text.is_empty() {
            return Ok(());
        }
        let (regular, bold) = faces().ok_or(DrawingErrorKind::DrawingError(std::fmt::Error))?;
        let is_bold = matches!(s.style(), FontStyle::Bold);
        let font = if is_bold { bold } else { regular };
        let size = s.size();
        let ((x0, y0), (x1, y1)) = s
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (x1 - x0, y1 - y0);
        let dx = match s.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match s.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        // ab_glyph scales a font so that ascent − descent is `size` pixels,
        // and plotters puts the baseline half a size below the text's top.
        let scale = size / f64::from(font.height_unscaled());
        let rotate = match s.transform() {
            FontTransform::None => "",
            FontTransform::Rotate90 => " rotate(90)",
            FontTransform::Rotate180 => " rotate(180)",
            FontTransform::Rotate270 => " rotate(270)",
        };
        let mut uses = String::new();
        let mut pen = 0.0f32;
        let mut prev: Option<GlyphId> = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                pen += font.kern_unscaled(p, id);
            }
            if let Some(g) = self.glyph(font, is_bold, id) {
                let _ = write!(uses, "<use xlink:href=\"#g{g}\" x=\"{pen}\"/>");
            }
            pen += font.h_advance_unscaled(id);
            prev = Some(id);
        }
        let _ = writeln!(
            self.body,
            "<g aria-label=\"{}\" fill=\"{}\"{} transform=\"translate({} {}){rotate} \
             translate({} {}) scale({} {})\">{uses}</g>",
            escape(text),
            colour(c),
            opacity("fill-opacity", c),
            pos.0,
            pos.1,
            dx - x0,
            short(f64::from(dy - y0) + size / 2.0),
            short(scale),
            short(-scale),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn text_is_outlined_once_per_glyph_and_keeps_its_words() {
        let mut svg = String::new();
        {
            let root = SvgCanvas::new(&mut svg, (200, 100)).into_drawing_area();
            // The registered font is what the layout box is measured with.
            super::super::charts::fonts().unwrap();
            let style = TextStyle::from(("sans-serif", 20).into_font());
            root.draw_text("a <b> & a", &style, (10, 10)).unwrap();
            root.draw(&Circle::new((50, 50), 5, RED.filled())).unwrap();
            root.present().unwrap();
        }
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.ends_with("</svg>\n"));
        assert!(svg.contains("aria-label=\"a &lt;b&gt; &amp; a\""), "{svg}");
        // No font is asked of the viewer.
        assert!(!svg.contains("<text") && !svg.contains("font-family"));
        // "a" twice, "<", "b", ">", "&": five distinct glyphs, five uses
        // and a space with no outline.
        assert_eq!(svg.matches("<path id=").count(), 5, "{svg}");
        assert_eq!(svg.matches("<use ").count(), 6, "{svg}");
        assert!(svg.contains("<circle cx=\"50\" cy=\"50\" r=\"5\" fill=\"#FF0000\""));
    }
}
