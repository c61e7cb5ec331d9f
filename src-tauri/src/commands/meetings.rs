//! The home screen's meetings: list, schedule, edit, delete.

use tauri::State;

use crate::error::Error;
use crate::models::{EditMeetingRequest, MeetingSettings, ScheduledMeeting};
use crate::state::AppState;

/// Longest topic the form accepts, in characters.
const MAX_TOPIC_CHARS: usize = 200;

fn check(settings: &MeetingSettings) -> Result<(), Error> {
    if let Some(topic) = &settings.topic
        && topic.chars().count() > MAX_TOPIC_CHARS
    {
        return Err(Error::InvalidInput(format!(
            "the topic can be at most {MAX_TOPIC_CHARS} characters"
        )));
    }
    if settings.duration_minutes == Some(0) {
        return Err(Error::InvalidInput(
            "a meeting lasts at least a minute".into(),
        ));
    }
    Ok(())
}

/// The signed-in user's meetings, soonest first (unscheduled last).
#[tauri::command]
pub(crate) async fn list_meetings(
    state: State<'_, AppState>,
) -> Result<Vec<ScheduledMeeting>, Error> {
    let mut meetings = state.web().await?.list().await?;
    meetings.sort_by_key(|m| (m.start_time.is_none(), m.start_time, m.meeting_id));
    Ok(meetings)
}

/// Schedules a meeting with its security settings.
#[tauri::command]
pub(crate) async fn schedule_meeting(
    state: State<'_, AppState>,
    settings: MeetingSettings,
) -> Result<ScheduledMeeting, Error> {
    check(&settings)?;
    Ok(state.web().await?.create(&settings).await?)
}

/// Changes a meeting's schedule or security settings.
#[tauri::command]
pub(crate) async fn edit_meeting(
    state: State<'_, AppState>,
    request: EditMeetingRequest,
) -> Result<ScheduledMeeting, Error> {
    check(&request.settings)?;
    Ok(state
        .web()
        .await?
        .edit(request.meeting_id, &request.settings)
        .await?)
}

/// Deletes a meeting.
#[tauri::command]
pub(crate) async fn delete_meeting(
    state: State<'_, AppState>,
    meeting_id: u64,
) -> Result<(), Error> {
    Ok(state.web().await?.delete(meeting_id).await?)
}
