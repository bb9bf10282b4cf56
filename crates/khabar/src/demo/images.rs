//! Featured images for the demo articles: abstract SVG illustrations, one
//! motif per section, varied per article. Drawn here so the demo needs no
//! downloads and carries no third-party pictures.

use std::fmt::Write;

/// (background from, background to, accent) per section, in `SECTIONS` order.
const PALETTES: &[(&str, &str, &str)] = &[
    ("#7f1d1d", "#b45309", "#fde68a"),
    ("#064e3b", "#0f766e", "#a7f3d0"),
    ("#14532d", "#4d7c0f", "#fef9c3"),
    ("#4c1d95", "#9d174d", "#fbcfe8"),
    ("#0c4a6e", "#1e3a8a", "#bae6fd"),
    ("#155e75", "#0e7490", "#fecdd3"),
];

/// A small deterministic generator: the same article always gets the same picture.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

pub fn illustration(section_index: usize, article_number: usize) -> String {
    let (from, to, accent) = PALETTES[section_index % PALETTES.len()];
    let mut random = Sequence(article_number as u64 * 7919 + section_index as u64);
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1200 675\" width=\"1200\" height=\"675\">\
         <defs><linearGradient id=\"g\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\">\
         <stop offset=\"0\" stop-color=\"{from}\"/><stop offset=\"1\" stop-color=\"{to}\"/></linearGradient></defs>\
         <rect width=\"1200\" height=\"675\" fill=\"url(#g)\"/>"
    );
    // A field of soft circles gives each picture its own texture.
    for _ in 0..7 {
        let (x, y, r) = (random.next(1200), random.next(675), 40 + random.next(220));
        let opacity = 5 + random.next(12);
        let _ = write!(svg, "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" fill=\"#fff\" opacity=\"0.{opacity:02}\"/>");
    }
    match section_index {
        // Politics: a domed assembly hall.
        0 => {
            let _ = write!(
                svg,
                "<g fill=\"{accent}\" opacity=\"0.9\"><path d=\"M420 360 A180 150 0 0 1 780 360 Z\"/>\
                 <rect x=\"380\" y=\"360\" width=\"440\" height=\"24\"/><rect x=\"360\" y=\"560\" width=\"480\" height=\"30\"/>"
            );
            for column in 0..7 {
                let _ = write!(svg, "<rect x=\"{}\" y=\"390\" width=\"26\" height=\"170\"/>", 405 + column * 62);
            }
            svg.push_str("</g>");
        }
        // Economy: a rising bar chart and its trend line.
        1 => {
            let mut points = String::new();
            for bar in 0..8u64 {
                let height = 80 + bar * 40 + random.next(80);
                let x = 250 + bar * 90;
                let _ = write!(
                    svg,
                    "<rect x=\"{x}\" y=\"{}\" width=\"60\" height=\"{height}\" rx=\"6\" fill=\"{accent}\" opacity=\"0.85\"/>",
                    600 - height
                );
                let _ = write!(points, "{},{} ", x + 30, 560 - height);
            }
            let _ = write!(
                svg,
                "<polyline points=\"{points}\" fill=\"none\" stroke=\"#fff\" stroke-width=\"8\" stroke-linejoin=\"round\"/>"
            );
        }
        // Sports: a pitch seen from above, with a ball.
        2 => {
            let _ = write!(
                svg,
                "<g fill=\"none\" stroke=\"{accent}\" stroke-width=\"8\" opacity=\"0.85\">\
                 <rect x=\"200\" y=\"120\" width=\"800\" height=\"440\"/><line x1=\"600\" y1=\"120\" x2=\"600\" y2=\"560\"/>\
                 <circle cx=\"600\" cy=\"340\" r=\"80\"/><rect x=\"200\" y=\"250\" width=\"90\" height=\"180\"/>\
                 <rect x=\"910\" y=\"250\" width=\"90\" height=\"180\"/></g>\
                 <circle cx=\"{}\" cy=\"{}\" r=\"26\" fill=\"#fff\"/>",
                300 + random.next(600),
                180 + random.next(320)
            );
        }
        // Culture: a row of arches, as in an old courtyard.
        3 => {
            let _ = write!(svg, "<g fill=\"none\" stroke=\"{accent}\" stroke-width=\"14\" opacity=\"0.9\">");
            for arch in 0..4 {
                let x = 270 + arch * 170;
                let _ = write!(svg, "<path d=\"M{x} 560 V330 A70 80 0 0 1 {} 330 V560\"/>", x + 140);
            }
            svg.push_str("</g>");
        }
        // Technology: a circuit of connected nodes.
        4 => {
            let nodes: Vec<(u64, u64)> = (0..9).map(|_| (220 + random.next(760), 140 + random.next(400))).collect();
            for pair in nodes.windows(2) {
                let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
                let _ = write!(
                    svg,
                    "<path d=\"M{x1} {y1} H{x2} V{y2}\" fill=\"none\" stroke=\"{accent}\" stroke-width=\"6\" opacity=\"0.8\"/>"
                );
            }
            for (x, y) in nodes {
                let _ = write!(svg, "<circle cx=\"{x}\" cy=\"{y}\" r=\"16\" fill=\"#fff\"/>");
            }
        }
        // Health: a cross and a heartbeat line.
        _ => {
            let _ = write!(
                svg,
                "<g fill=\"{accent}\" opacity=\"0.9\"><rect x=\"540\" y=\"150\" width=\"120\" height=\"330\" rx=\"14\"/>\
                 <rect x=\"435\" y=\"255\" width=\"330\" height=\"120\" rx=\"14\"/></g>\
                 <polyline points=\"150,560 420,560 470,480 530,620 590,520 630,560 1050,560\" fill=\"none\" \
                 stroke=\"#fff\" stroke-width=\"10\" stroke-linejoin=\"round\"/>"
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}
