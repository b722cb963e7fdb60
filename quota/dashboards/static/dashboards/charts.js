// Dashboard charts: every `[data-chart]` element names a JSON payload (`json_script`) that quota/dashboards/charts.py
// built; this file turns it into ECharts options. Data never becomes code: labels are text, numbers are numbers.
// Charts follow the page: numbers in its language, axes mirrored for right-to-left languages, sized to their box.
(function () {
  "use strict";

  var COLORS = {
    current: "#2f6fed", previous: "#98a2b3", target: "#b7791f", good: "#1e8e4f", bad: "#c0392b",
    // A forecast's range, drawn as overlaid bars: P90 lightest behind, P10 darkest in front.
    high: "#c9d8fb", middle: "#7ea3f4", low: "#2f5fc4",
  };
  var PALETTE = ["#2f6fed", "#1e8e4f", "#b7791f", "#6b3fb8", "#c0392b", "#0e7490", "#98a2b3"];
  var live = new WeakMap(); // element -> chart

  function lang() {
    // Latin digits, as the server writes them in tables beside the charts.
    return (document.documentElement.lang || "en") + "-u-nu-latn";
  }

  function isRtl() {
    return document.documentElement.dir === "rtl";
  }

  // As the server's quota/core/formatting.py: money in whole units, rates and durations with one decimal, durations
  // named in the page's language; the compact form (€827K) only on axes.
  var DURATIONS = { days: "day", hours: "hour", minutes: "minute" };

  function formatter(unit, currency, compact) {
    var options = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
    if (unit === "money") options = { style: "currency", currency: currency || "EUR", minimumFractionDigits: 0, maximumFractionDigits: 0 };
    else if (unit === "percent") options = { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 };
    else if (unit === "count") options = { maximumFractionDigits: 0 };
    else if (DURATIONS[unit]) options = { style: "unit", unit: DURATIONS[unit], unitDisplay: "short", minimumFractionDigits: 1, maximumFractionDigits: 1 };
    if (compact) {
      // Short forms on axes, with enough digits that neighbouring ticks (1.25M, 1.5M) never read the same.
      options.notation = "compact";
      delete options.minimumFractionDigits;
      delete options.maximumFractionDigits;
      options.maximumSignificantDigits = 3;
    }
    var format;
    try {
      format = new Intl.NumberFormat(lang(), options);
    } catch (error) {
      format = new Intl.NumberFormat(undefined, options);
    }
    return function (value) {
      if (value === null || value === undefined || value === "-") return "–";
      return format.format(value);
    };
  }

  // The first and last labels of an axis end at its ends rather than centred on them, so none is cut off.
  function edgeAligned(label, inverse) {
    label.alignMinLabel = inverse ? "right" : "left";
    label.alignMaxLabel = inverse ? "left" : "right";
    return label;
  }

  // Few categories (sources, teams, reasons) are all named, wrapped to their share of the width (slanted when that
  // share is too narrow); many (months) are thinned out where they would overlap.
  function categoryLabel(payload, rtl, width) {
    if (payload.horizontal) return { width: Math.min(140, Math.max(60, width * 0.3)), overflow: "truncate" };
    var count = payload.categories.length || 1;
    var share = (width - 90) / count - 6;
    if (count <= 8 && share >= 64) return { interval: 0, width: share, overflow: "break", lineHeight: 13 };
    // Too narrow to wrap whole words (a phone): slanted, each name cut short only if it is very long.
    if (count <= 8) return { interval: 0, rotate: rtl ? -35 : 35, width: 90, overflow: "truncate" };
    return edgeAligned({ hideOverlap: true }, rtl);
  }

  function categoryOptions(payload, rtl, width) {
    var units = payload.units.length ? payload.units : ["count"];
    var valueAxes = units.map(function (unit, index) {
      var onEnd = index === 1;
      return {
        type: "value",
        position: payload.horizontal ? (onEnd ? "top" : "bottom") : (onEnd !== rtl ? "right" : "left"),
        inverse: payload.horizontal && rtl,
        axisLabel: payload.horizontal
          ? edgeAligned({ formatter: formatter(unit, payload.currency, true), hideOverlap: true }, rtl)
          : { formatter: formatter(unit, payload.currency, true) },
        minInterval: unit === "count" || unit === "money" ? 1 : undefined,
        splitLine: { show: index === 0 },
      };
    });
    var categoryAxis = {
      type: "category",
      data: payload.categories,
      // Horizontal bars list from the top; for right-to-left text the first category is on the right.
      inverse: payload.horizontal ? true : rtl,
      position: payload.horizontal ? (rtl ? "right" : "left") : "bottom",
      axisLabel: categoryLabel(payload, rtl, width),
      axisTick: { alignWithLabel: true },
    };
    var series = payload.series.map(function (item, index) {
      var format = formatter(units[item.axis] || units[0], payload.currency, false);
      var color = item.role === "current" ? PALETTE[index % PALETTE.length] : COLORS[item.role];
      var entry = {
        name: item.name,
        type: item.kind === "line" ? "line" : item.kind === "point" ? "scatter" : "bar",
        data: item.data,
        itemStyle: { color: color },
        tooltip: { valueFormatter: format },
        connectNulls: false,
        barMaxWidth: 28,
      };
      if (payload.horizontal) entry.xAxisIndex = item.axis;
      else entry.yAxisIndex = item.axis;
      if (payload.stacked && entry.type === "bar") entry.stack = "total";
      if (payload.overlaid && entry.type === "bar") entry.barGap = "-100%"; // bars of a category on one another
      if (entry.type === "scatter") { entry.symbol = "diamond"; entry.symbolSize = 14; entry.z = 5; }
      if (item.role === "previous") entry.lineStyle = { type: "dashed" };
      return entry;
    });
    return {
      grid: { containLabel: true, left: 12, right: 24, top: 36, bottom: 8 },
      legend: { top: 0, type: "scroll", left: rtl ? "right" : "left" },
      tooltip: { trigger: "axis", axisPointer: { type: payload.horizontal ? "shadow" : "line" }, confine: true },
      xAxis: payload.horizontal ? valueAxes : categoryAxis,
      yAxis: payload.horizontal ? categoryAxis : valueAxes,
      series: series,
    };
  }

  function funnelOptions(payload, rtl) {
    var format = formatter(payload.units[0], payload.currency, false);
    var compact = formatter(payload.units[0], payload.currency, true);
    return {
      tooltip: { trigger: "item", valueFormatter: format, confine: true },
      legend: { show: false },
      color: PALETTE,
      series: [{
        name: payload.name,
        type: "funnel",
        sort: "none", // the pipeline's stage order, not by size
        // The funnel on the reading side, its labels after it (on the left for right-to-left pages).
        left: rtl ? "40%" : "2%", width: "58%", top: 8, bottom: 8,
        minSize: "20%",
        gap: 3,
        label: {
          show: true, position: rtl ? "left" : "right", color: "#1d2330", fontSize: 13, lineHeight: 17,
          formatter: function (item) { return item.name + "\n" + compact(item.value); },
        },
        labelLine: { show: true, length: 12 },
        data: payload.steps,
      }],
    };
  }

  function draw(element) {
    if (live.has(element) || typeof echarts === "undefined") return;
    var source = document.getElementById(element.dataset.chart);
    if (!source) return;
    var payload = JSON.parse(source.textContent);
    var rtl = isRtl();
    // SVG text keeps the browser's own shaping and direction for Persian and Cyrillic labels.
    var chart = echarts.init(element, null, { renderer: "svg" });
    var options = payload.type === "funnel" ? funnelOptions(payload, rtl) : categoryOptions(payload, rtl, element.clientWidth);
    options.animation = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    chart.setOption(options);
    live.set(element, chart);
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        chart.resize();
        if (payload.type !== "funnel") { // category labels wrap to the new width
          var axis = payload.horizontal ? "yAxis" : "xAxis";
          var update = {};
          update[axis] = { axisLabel: categoryLabel(payload, rtl, element.clientWidth) };
          chart.setOption(update);
        }
      }).observe(element);
    }
  }

  function drawAll(root) {
    if (root.matches && root.matches("[data-chart]")) draw(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-chart]").forEach(draw);
  }

  // Charts in content HTMX is about to remove are disposed of, so swapping periods does not leak them.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var element = event.target;
    if (element && element.matches && element.matches("[data-chart]") && live.has(element)) {
      live.get(element).dispose();
      live.delete(element);
    }
  });
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });

  // A named period needs no dates: leave them out of the request, so the pushed URL stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (!data || !event.detail.elt.matches(".period-picker") || data.get("period") === "custom") return;
    data.delete("start");
    data.delete("end");
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
})();
