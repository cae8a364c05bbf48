"""What a reader would hit, measured in the page: JavaScript probes for the email layout tests."""

from __future__ import annotations

# Words of table cells drawn on more than one line ("Undisclose|d"): each word's client rects.
SPLIT_WORDS = """() => {
  const split = [];
  for (const cell of document.querySelectorAll('table.data th, table.data td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g;
      for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top)));
        if (lines.size > 1) split.push(m[0]);
      }
    }
  }
  return split;
}"""

# Text whose colour is under 4.5:1 against the background it is drawn on.
LOW_CONTRAST = """() => {
  const rgba = (text) => (text.match(/[\\d.]+/g) || ['0', '0', '0', '0']).map(Number);
  const lum = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const element of document.body.querySelectorAll('*')) {
    const own = Array.from(element.childNodes).some(
      (n) => n.nodeType === Node.TEXT_NODE && n.data.trim());
    const box = element.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
    const [a, b] = [lum(rgba(style.color)), lum(background(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const text = element.textContent.trim().slice(0, 40);
    if (ratio < 4.5) low.push(`${element.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return low;
}"""

# Every image: its width attribute, drawn width, and the width of the column holding it.
IMAGES = """() => Array.from(document.images, (img) => {
  const column = img.closest('.mj-column-per-100') || document.body;
  return {
    src: img.getAttribute('src'),
    attribute: img.getAttribute('width'),
    drawn: img.getBoundingClientRect().width,
    column: column.getBoundingClientRect().width,
  };
})"""

# The smallest font size of any text inside a data table.
SMALLEST_TABLE_FONT = """() => Math.min(...Array.from(
  document.querySelectorAll('table.data th, table.data td, table.data a'),
  (element) => parseFloat(getComputedStyle(element).fontSize)))"""
