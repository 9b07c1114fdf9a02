"""Exports of a run for the Department and the agencies: report.json, an XLSX workbook, an HTML audit report, WARC.

    audit.build_audit(db, run_id) -> Audit         # the run, its verdicts, points, ranks and overrides
    json.write_json(audit, out_dir)                # report.json: the run and its provenance, agencies, verdicts
    xlsx.write_xlsx(audit, out_dir)                # ranking, verdicts, one confirmation sheet per agency
    html.write_html(audit, out_dir)                # index, one page per agency, one evidence page per fetch
    warc.write_warc(audit, out_dir)                # the run's WARC files and a CDXJ index
    run_info.run_facts(audit)                      # the provenance of the run, in Vietnamese, for HTML and XLSX

Each writes the same bytes for the same stored run: times come from the run (audit.report_time).
"""
