/**
 * date_time as Ansible's: the target's clock, local and UTC, every field a string (epoch too).
 * One `date` per clock; %N gives the microseconds of the iso8601_micro/basic forms.
 */
import { lines, type Fact } from "./types.ts";

export const dateTimeFact: Fact = {
  name: "date_time",
  command: "date '+%Y %m %d %H %M %S %s %Z %z %A %w %W %N'; date -u '+%Y-%m-%dT%H:%M:%S %N'",
  parse(output) {
    const [local, utc] = lines(output);
    const f = (local ?? "").split(" ");
    if (f.length < 13 || !utc) return { date_time: {} };
    const [year, month, day, hour, minute, second, epoch, tz, tzOffset, weekday, weekdayNumber, weeknumber, nanos] = f;
    const [utcTime, utcNanos] = utc.split(" ");
    const micro = (n: string) => (n ?? "").padEnd(6, "0").slice(0, 6);
    return {
      date_time: {
        year, month, day, hour, minute, second, epoch, epoch_int: epoch, tz, tz_offset: tzOffset, weekday,
        weekday_number: weekdayNumber, weeknumber,
        date: `${year}-${month}-${day}`,
        time: `${hour}:${minute}:${second}`,
        iso8601: `${utcTime}Z`,
        iso8601_micro: `${utcTime}.${micro(utcNanos)}Z`,
        iso8601_basic: `${year}${month}${day}T${hour}${minute}${second}${micro(nanos)}`,
        iso8601_basic_short: `${year}${month}${day}T${hour}${minute}${second}`,
      },
    };
  },
};
