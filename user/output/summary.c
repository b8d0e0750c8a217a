#include <inttypes.h>
#include "output/json.h"
#include "output/summary.h"
#include "output/target_report.h"

void summary_begin(struct summary *s)
{
	s->line_open = false;
	s->line_items = 0;
	if (!s->json) {
		fputc('\n', s->out);
		return;
	}
	json_begin(s->out, "summary");
	json_field_str(s->out, "command", s->command);
	json_field_u64(s->out, "events", s->events);
	json_field_u64(s->out, "lost", s->lost);
	json_field_f(s->out, "duration_s", s->secs, 3);
	json_field_str(s->out, "end", s->end);
}

void summary_count(struct summary *s, const char *key, const char *label, uint64_t v)
{
	if (s->json) {
		if (key)
			json_field_u64(s->out, key, v);
		return;
	}
	if (!label)
		return;
	fprintf(s->out, "%s%s %" PRIu64, s->line_items ? ", " : "", label, v);
	s->line_open = true;
	s->line_items++;
}

void summary_line_end(struct summary *s)
{
	if (!s->json && s->line_open)
		fputc('\n', s->out);
	s->line_open = false;
	s->line_items = 0;
}

void summary_group_open(struct summary *s, const char *key, const char *text_prefix)
{
	summary_line_end(s);
	if (s->json) {
		json_object_open(s->out, key);
		return;
	}
	fputs(text_prefix, s->out);
	s->line_open = true;
}

void summary_group_close(struct summary *s, const char *text_note)
{
	if (s->json) {
		json_object_close(s->out);
		return;
	}
	if (text_note)
		fputs(text_note, s->out);
	summary_line_end(s);
}

void summary_end(struct summary *s, const char *detail)
{
	summary_line_end(s);
	if (s->json) {
		report_target_end(s->out, s->t, true);
		json_end(s->out);
	} else {
		fprintf(s->out, "%" PRIu64 " %s in %.1f s%s, %" PRIu64 " lost", s->events,
			s->events_noun ? s->events_noun : "events", s->secs, detail ? detail : "",
			s->lost);
		report_target_end(s->out, s->t, false);
		fputc('\n', s->out);
	}
	fflush(s->out);
}
