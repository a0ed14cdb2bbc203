/** One colour per series, distinct on the dark theme and in the order solvers are picked. */
export const SERIES_COLOURS = ['#6ea8fe', '#f2c14e', '#5ccf95', '#ff7b7b', '#c792ea', '#4dd0e1', '#ffab70', '#a3be8c'];

export const colourOf = (index: number): string => SERIES_COLOURS[index % SERIES_COLOURS.length];
