// Mermaid draws a diagram at its own width, or shrinks it to the width of the page when the page
// is narrower: on a phone, to about half, and its labels with it, too small to read. This keeps
// every diagram at least 600 px wide (or its own width, if smaller), so that it shrinks little,
// and lets its block scroll sideways on a narrow screen, as a code block does. On a desktop's
// page (750 px) nothing changes.
(() => {
    const MIN_WIDTH = 600;
    const fit = () => {
        for (const svg of document.querySelectorAll('pre.mermaid > svg')) {
            const width = svg.viewBox && svg.viewBox.baseVal ? svg.viewBox.baseVal.width : 0;
            if (width > 0 && !svg.style.minWidth) {
                svg.style.minWidth = Math.min(width, MIN_WIDTH) + 'px';
                svg.parentElement.style.overflowX = 'auto';
            }
        }
    };
    new MutationObserver(fit).observe(document.documentElement, { childList: true, subtree: true });
})();
