/** CLI exit codes (DESIGN.md §3): 0 allowed / verified / pass, 1 denied / not verified / fail, 2 usage or input error. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
