"""The official report ("Báo cáo kết quả"): a committee's figures as of a day, written as a Party
document, drafted by people, issued and frozen. `figures` reads, `texts` writes the sentences,
`build` assembles the `content.ReportDocument`, `docx` and `pdf` draw it, `services` keep drafts
and issue them."""
