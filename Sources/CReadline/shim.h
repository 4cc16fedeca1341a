// readline.h uses FILE without including stdio.h itself.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>
#include <readline/history.h>

// Swift 6 treats readline's C globals as shared mutable state; these setters and getters are
// the only way tl touches them.
static inline void tl_rl_set_catch_signals(int on) { rl_catch_signals = on; rl_catch_sigwinch = 1; }
static inline void tl_rl_set_readline_name(const char *name) { rl_readline_name = name; }
static inline void tl_rl_set_completion_function(rl_completion_func_t *f) { rl_attempted_completion_function = f; }
static inline void tl_rl_set_attempted_completion_over(int over) { rl_attempted_completion_over = over; }
static inline void tl_rl_set_completion_append_character(int c) { rl_completion_append_character = c; }
static inline void tl_rl_set_word_break_characters(const char *chars) {
    rl_completer_word_break_characters = strdup(chars);
    rl_basic_word_break_characters = rl_completer_word_break_characters;
}
static inline void tl_rl_set_completion_quote_characters(const char *chars) { rl_completer_quote_characters = chars; }
static inline void tl_rl_disable_filename_quoting(void) { rl_filename_quoting_desired = 0; rl_completion_suppress_quote = 1; }
static inline const char *tl_rl_line_buffer(void) { return rl_line_buffer; }
static inline int tl_rl_point(void) { return rl_point; }
static inline void tl_rl_set_word_break_hook(rl_cpvfunc_t *hook) { rl_completion_word_break_hook = hook; }
